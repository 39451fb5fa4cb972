/** hitnb's JupyterLab extension: a left side panel over the store. */

import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { LabIcon } from '@jupyterlab/ui-components';

import { HitnbPanel } from './panel';

const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">' +
  '<path class="jp-icon3" fill="#616161" d="M12 3C7 3 3 4.8 3 7v10c0 2.2 4 4 9 4s9-1.8 ' +
  '9-4V7c0-2.2-4-4-9-4zm0 2c4.4 0 7 1.5 7 2s-2.6 2-7 2-7-1.5-7-2 2.6-2 7-2zm-7 5.3C6.6 ' +
  '11.3 9.2 12 12 12s5.4-.7 7-1.7V12c0 .5-2.6 2-7 2s-7-1.5-7-2zm0 5C6.6 16.3 9.2 17 12 ' +
  '17s5.4-.7 7-1.7V17c0 .5-2.6 2-7 2s-7-1.5-7-2z"/></svg>';

export const hitnbIcon = new LabIcon({ name: 'hitnb:store', svgstr: ICON_SVG });

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'hitnb-labextension:panel',
  description: 'A side panel over the hitnb store.',
  autoStart: true,
  requires: [ILabShell],
  activate: (app: JupyterFrontEnd, shell: ILabShell) => {
    const panel = new HitnbPanel({
      open: path => app.commands.execute('docmanager:open', { path })
    });
    panel.title.icon = hitnbIcon;
    shell.add(panel, 'left', { rank: 800 });
  }
};

export default plugin;
