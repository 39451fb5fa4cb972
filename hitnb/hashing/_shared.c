/* Whether a value of plain data holds one list or dict in two places.
 *
 * hitnb hashes long lists, tuples and dicts of plain data by their pickle, written in C
 * with no memo (hitnb/hashing/plain.py): a list held twice is written twice, so
 * `[[0] * 3] * 3` and `[[0] * 3 for _ in range(3)]` hash alike. They are not the same
 * value to a cell that changes them in place (`grid[0][0] = 1` changes one row, or
 * three), so such a value is hashed by the walk, which records where an object is met
 * again. Finding out walks the value once more, in C: a list or dict whose reference
 * count is one is held by one container only, so it is met twice only if that container
 * is; lists and dicts are noted as met, so only tuples held twice (which are not) make
 * their contents noted too. Most values note next to nothing.
 *
 * Without a C compiler the package does the same in Python (hitnb.hashing.shared).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define CONTAINER(o) \
    (Py_TYPE(o) == &PyList_Type || Py_TYPE(o) == &PyDict_Type || Py_TYPE(o) == &PyTuple_Type)

/* 1 when a list or dict is met twice, 0 when not, -1 with an exception set. `above` is
 * whether a tuple held more than once holds `obj`, which it may then be met through again;
 * `extra` the references this look itself holds on `obj`. With `out`, every list or dict
 * that may be held elsewhere is appended to it, once, and the look goes on (0). */
static int
scan(PyObject *obj, PyObject *met, int above, Py_ssize_t extra, PyObject *out)
{
    PyTypeObject *type = Py_TYPE(obj);
    int is_list = type == &PyList_Type, is_dict = type == &PyDict_Type;
    int held_elsewhere = above || Py_REFCNT(obj) - extra > 1;
    if ((is_list || is_dict) && held_elsewhere) {
        PyObject *address = PyLong_FromVoidPtr(obj);
        if (address == NULL) {
            return -1;
        }
        int found = PySet_Contains(met, address);
        if (found == 0 && PySet_Add(met, address) < 0) {
            found = -1;
        }
        Py_DECREF(address);
        if (found == 0 && out != NULL && PyList_Append(out, obj) < 0) {
            found = -1;
        }
        if (found < 0) {
            return found;
        }
        if (found) {
            return out == NULL;  /* collecting, it was looked through when first met */
        }
    }
    if (Py_EnterRecursiveCall(" while looking for lists held twice")) {
        return -1;
    }
    int result = 0;
    int below = !is_list && !is_dict && held_elsewhere;
    /* Noting an address may run the garbage collector, and a finalizer may change a list
     * or dict being looked through: each is held (one reference more: `extra`), its size
     * read again, and the item looked into held while it is. */
    Py_INCREF(obj);
    if (is_dict) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (result == 0 && PyDict_Next(obj, &pos, &key, &value)) {
            if (CONTAINER(value)) {
                Py_INCREF(value);
                result = scan(value, met, below, 1, out);
                Py_DECREF(value);
            }
        }
    }
    else {
        for (Py_ssize_t i = 0; result == 0; i++) {
            Py_ssize_t size = is_list ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj);
            if (i >= size) {
                break;
            }
            PyObject *item = is_list ? PyList_GET_ITEM(obj, i) : PyTuple_GET_ITEM(obj, i);
            if (CONTAINER(item)) {
                Py_INCREF(item);
                result = scan(item, met, below, 1, out);
                Py_DECREF(item);
            }
        }
    }
    Py_DECREF(obj);
    Py_LeaveRecursiveCall();
    return result;
}

static PyObject *
holds_twice(PyObject *module, PyObject *value)
{
    if (!CONTAINER(value)) {
        Py_RETURN_FALSE;
    }
    PyObject *met = PySet_New(NULL);
    if (met == NULL) {
        return NULL;
    }
    int found = scan(value, met, 0, 0, NULL);
    Py_DECREF(met);
    if (found < 0) {
        return NULL;
    }
    return PyBool_FromLong(found);
}

static PyObject *
held_elsewhere(PyObject *module, PyObject *value)
{
    PyObject *out = PyList_New(0);
    if (out == NULL || !CONTAINER(value)) {
        return out;
    }
    PyObject *met = PySet_New(NULL);
    if (met == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    int failed = scan(value, met, 0, 0, out) < 0;
    Py_DECREF(met);
    if (failed) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

static PyMethodDef methods[] = {
    {"holds_twice", holds_twice, METH_O,
     "Whether the list, tuple or dict holds one list or dict in two places."},
    {"held_elsewhere", held_elsewhere, METH_O,
     "The lists and dicts in the list, tuple or dict that something else may hold too."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_shared", NULL, -1, methods,
};

PyMODINIT_FUNC
PyInit__shared(void)
{
    return PyModule_Create(&module);
}
