/**
 * The side panel: the store's usage, its functions and their entries, its experiments and
 * their runs, with refresh, delete and export. Plain DOM in a Lumino widget, styled with
 * JupyterLab's theme variables so light and dark themes both work.
 */

import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { deleteIcon, refreshIcon, Toolbar, ToolbarButton } from '@jupyterlab/ui-components';
import { Panel, Widget } from '@lumino/widgets';

import { requestAPI } from './api';
import {
  exportPath,
  formatBytes,
  formatCell,
  formatDuration,
  IEntryRow,
  IExperimentRow,
  IFunctionRow,
  IRuns,
  IStats,
  runColumns,
  sortRows,
  usage
} from './model';

/** Everything the panel draws, as the server last answered. */
interface IPanelData {
  stats: IStats;
  functions: IFunctionRow[];
  experiments: IExperimentRow[];
  entries: IEntryRow[] | null;
  runs: IRuns | null;
}

/** What the panel needs from JupyterLab: a way to open a notebook it exported. */
export interface IPanelHost {
  open(path: string): Promise<unknown>;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text = ''
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

function button(label: string, title: string, onClick: () => void): HTMLButtonElement {
  const node = element('button', 'jp-Button jp-mod-styled jp-mod-reject hitnb-small', label);
  node.title = title;
  node.addEventListener('click', event => {
    event.stopPropagation();
    onClick();
  });
  return node;
}

/** A wide table in a box of its own that scrolls sideways, so the panel does not. */
function scrolling(table: HTMLElement): HTMLElement {
  const box = element('div', 'hitnb-Scroll');
  box.appendChild(table);
  return box;
}

export class HitnbPanel extends Panel {
  constructor(private readonly host: IPanelHost) {
    super();
    this.id = 'hitnb-panel';
    this.addClass('hitnb-Panel');
    this.title.caption = 'hitnb store';
    const toolbar = new Toolbar();
    toolbar.addClass('hitnb-Toolbar');
    const refresh = new ToolbarButton({
      icon: refreshIcon,
      tooltip: 'Refresh',
      onClick: () => void this.refresh()
    });
    refresh.addClass('hitnb-refresh');
    toolbar.addItem('title', new Widget({ node: element('span', 'hitnb-Title', 'hitnb store') }));
    toolbar.addItem('spacer', Toolbar.createSpacerItem());
    toolbar.addItem('refresh', refresh);
    this.addWidget(toolbar);
    this.addWidget(this.body);
  }

  private readonly body = new Widget({ node: element('div', 'hitnb-Body') });
  private selectedFunction: string | null = null;
  private selectedExperiment: string | null = null;
  private sort: { column: string; descending: boolean } = { column: 'key', descending: false };
  /** The server's last answers; drawing reads only these, so sorting asks the server nothing. */
  private data: IPanelData | null = null;

  protected onAfterAttach(): void {
    void this.refresh();
  }

  /** Read everything again from the server and redraw. */
  async refresh(): Promise<void> {
    const fn = this.selectedFunction;
    const experiment = this.selectedExperiment;
    try {
      const [stats, functions, experiments, entries, runs] = await Promise.all([
        requestAPI<IStats>('stats'),
        requestAPI<{ functions: IFunctionRow[] }>('functions'),
        requestAPI<{ experiments: IExperimentRow[] }>('experiments'),
        fn
          ? requestAPI<{ entries: IEntryRow[] }>(
              `entries?function=${encodeURIComponent(fn)}&limit=200`
            )
          : null,
        experiment
          ? requestAPI<IRuns>(`experiments/${encodeURIComponent(experiment)}?limit=1000`)
          : null
      ]);
      this.data = {
        stats,
        functions: functions.functions,
        experiments: experiments.experiments,
        entries: entries?.entries ?? null,
        runs
      };
      this.render();
    } catch (error) {
      await showErrorMessage('hitnb', String(error));
    }
  }

  private render(): void {
    const data = this.data;
    if (!data) {
      return;
    }
    const node = this.body.node;
    node.replaceChildren();
    node.appendChild(element('div', 'hitnb-Usage', usage(data.stats)));
    node.appendChild(element('div', 'hitnb-Store', data.stats.store));
    node.appendChild(element('h3', 'hitnb-Heading', 'Functions'));
    node.appendChild(this.functionsTable(data.functions));
    if (data.entries) {
      node.appendChild(scrolling(this.entriesTable(data.entries)));
    }
    node.appendChild(element('h3', 'hitnb-Heading', 'Experiments'));
    const list = element('ul', 'hitnb-Experiments');
    for (const experiment of data.experiments) {
      const item = element('li', 'hitnb-Experiment', `${experiment.name} (${experiment.runs})`);
      item.dataset.function = experiment.function;
      item.addEventListener('click', () => {
        this.selectedExperiment = experiment.function;
        void this.refresh();
      });
      list.appendChild(item);
    }
    if (!data.experiments.length) {
      list.appendChild(element('li', 'hitnb-Empty', 'No experiment runs yet'));
    }
    node.appendChild(list);
    if (data.runs) {
      node.appendChild(scrolling(this.runsTable(data.runs)));
    }
  }

  private functionsTable(rows: IFunctionRow[]): HTMLTableElement {
    const table = element('table', 'hitnb-Table hitnb-Functions');
    table.appendChild(this.header(['function', 'entries', 'size']));
    for (const row of rows) {
      const tr = element('tr', row.function === this.selectedFunction ? 'hitnb-selected' : '');
      tr.dataset.function = row.function;
      tr.append(
        element('td', '', row.name),
        element('td', 'hitnb-number', String(row.entries)),
        element('td', 'hitnb-number', formatBytes(row.bytes))
      );
      tr.addEventListener('click', () => {
        this.selectedFunction = row.function === this.selectedFunction ? null : row.function;
        void this.refresh();
      });
      table.appendChild(tr);
    }
    return table;
  }

  private entriesTable(entries: IEntryRow[]): HTMLElement {
    const table = element('table', 'hitnb-Table hitnb-Entries');
    table.appendChild(this.header(['key', 'created', 'size', 'took', '']));
    for (const entry of entries) {
      const tr = element('tr');
      tr.dataset.key = entry.key;
      const created = new Date(entry.created * 1000).toLocaleString();
      const actions = element('td');
      actions.appendChild(this.deleteButton(entry.key, 'Delete this entry'));
      tr.append(
        element('td', 'hitnb-key', entry.key.slice(0, 10)),
        element('td', '', created),
        element('td', 'hitnb-number', formatBytes(entry.size)),
        element('td', 'hitnb-number', formatDuration(entry.duration)),
        actions
      );
      table.appendChild(tr);
    }
    return table;
  }

  private runsTable(runs: IRuns): HTMLElement {
    const columns = runColumns(runs);
    const table = element('table', 'hitnb-Table hitnb-Runs');
    const header = this.header([...columns, '']);
    header.querySelectorAll('th').forEach((th, i) => {
      if (i < columns.length) {
        th.classList.add('hitnb-sortable');
        th.addEventListener('click', () => {
          const column = columns[i];
          const descending = this.sort.column === column ? !this.sort.descending : false;
          this.sort = { column, descending };
          this.render();
        });
      }
    });
    table.appendChild(header);
    for (const run of sortRows(runs.runs, this.sort.column, this.sort.descending)) {
      const key = String(run.key);
      const tr = element('tr', run.status === 'ok' ? '' : 'hitnb-failed');
      tr.dataset.key = key;
      for (const column of columns) {
        tr.appendChild(element('td', '', formatCell(column, run[column])));
      }
      const actions = element('td', 'hitnb-actions');
      actions.appendChild(
        button('Export', 'Export this run as a notebook and open it', () => {
          void this.exportRun(runs.function, key);
        })
      );
      actions.appendChild(this.deleteButton(key, 'Delete this run'));
      tr.appendChild(actions);
      table.appendChild(tr);
    }
    return table;
  }

  private deleteButton(key: string, title: string): HTMLButtonElement {
    const remove = button('', title, () => void this.remove(key));
    deleteIcon.element({ container: remove, height: '14px', width: '14px' });
    remove.classList.add('hitnb-delete');
    return remove;
  }

  private header(columns: string[]): HTMLTableRowElement {
    const tr = element('tr');
    for (const column of columns) {
      let label = column;
      if (column && column === this.sort.column) {
        label += this.sort.descending ? ' ▼' : ' ▲';
      }
      tr.appendChild(element('th', '', label));
    }
    return tr;
  }

  private async remove(key: string): Promise<void> {
    const answer = await showDialog({
      title: 'Delete this entry?',
      body: `The stored result ${key.slice(0, 10)} is removed; the next call computes it again.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      await requestAPI(`entries/${key}`, { method: 'DELETE' });
    } catch (error) {
      await showErrorMessage('hitnb: delete failed', String(error));
    }
    await this.refresh();
  }

  private async exportRun(fn: string, key: string): Promise<void> {
    try {
      const written = await requestAPI<{ path: string }>('export', {
        method: 'POST',
        body: JSON.stringify({ keys: [key], path: exportPath(fn, key) })
      });
      await this.host.open(written.path);
    } catch (error) {
      await showErrorMessage('hitnb: export failed', String(error));
    }
  }
}
