/* The audit hook of hitnb.core.files, filtered in C.
 *
 * An audit hook sees every audited event of the process, and a hook written in Python is a
 * Python call for each: `id()`, `copy.deepcopy`, attribute reads of some objects, every
 * import. An import cell of numpy, pandas, matplotlib and statsmodels raises about 100,000
 * of them; a hook that does nothing costs it 25 ms, and `id()` runs three times slower
 * in every later cell. This hook, registered with PySys_AddAuditHook, compares the event's
 * name with the few that hitnb observes and calls the Python callback for those only; the
 * rest cost a string comparison, and no Python object is made for them.
 *
 * Without a C compiler the package falls back to the same callback as a Python hook
 * (hitnb.core.files), which observes the same events at the cost above.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MAX_EVENTS 8

static PyObject *callback = NULL; /* held for the life of the process, as the hook is */
static PyInterpreterState *home = NULL;
static char *events[MAX_EVENTS + 1];

static PyThreadState *
current_thread(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked();
#else
    return _PyThreadState_UncheckedGet();
#endif
}

static int
finalizing(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing();
#else
    return _Py_IsFinalizing();
#endif
}

static int
hook(const char *event, PyObject *args, void *data)
{
    (void)data;
    for (char **name = events; *name != NULL; name++) {
        if (strcmp(event, *name) != 0) {
            continue;
        }
        PyThreadState *thread = current_thread();
        /* Another interpreter's objects must not reach this one's callback, and a process
         * shutting down has torn down the module the callback reads. */
        if (thread == NULL || PyThreadState_GetInterpreter(thread) != home || finalizing()) {
            return 0;
        }
        PyObject *result = PyObject_CallFunction(callback, "sO", event, args);
        if (result == NULL) {
            return -1; /* as a Python hook's exception: the audited call raises it */
        }
        Py_DECREF(result);
        return 0;
    }
    return 0;
}

static PyObject *
install(PyObject *module, PyObject *const *argv, Py_ssize_t argc)
{
    (void)module;
    if (argc != 2 || !PyCallable_Check(argv[0]) || !PyTuple_Check(argv[1])) {
        PyErr_SetString(PyExc_TypeError, "install(callback, events: tuple[str, ...])");
        return NULL;
    }
    if (callback != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the hook is installed already (once a process)");
        return NULL;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(argv[1]);
    if (count > MAX_EVENTS) {
        PyErr_Format(PyExc_ValueError, "at most %d events", MAX_EVENTS);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(argv[1], i));
        if (name == NULL) {
            return NULL;
        }
        events[i] = strdup(name); /* never freed: the hook cannot be removed */
        if (events[i] == NULL) {
            return PyErr_NoMemory();
        }
    }
    events[count] = NULL;
    home = PyInterpreterState_Get();
    Py_INCREF(argv[0]);
    callback = argv[0];
    if (PySys_AddAuditHook(hook, NULL) < 0) {
        Py_CLEAR(callback); /* another hook refused "sys.addaudithook" */
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"install", (PyCFunction)(void (*)(void))install, METH_FASTCALL,
     "install(callback, events): call callback(event, args) for these audit events only."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef definition = {
    PyModuleDef_HEAD_INIT, "_file_events", "hitnb's audit hook, filtered in C.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__file_events(void)
{
    return PyModule_Create(&definition);
}
