/** Calls to hitnb's jupyter_server extension, with Jupyter's own authentication. */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** An error the server answered with: `{code, message}`. */
export class HitnbApiError extends Error {
  constructor(
    readonly code: number,
    message: string
  ) {
    super(message);
  }
}

/** `method` on `/hitnb/api/<path>`, returning the JSON answer. */
export async function requestAPI<T>(
  path: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'hitnb', 'api', path);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const text = await response.text();
  let body: unknown = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new HitnbApiError(response.status, `not JSON from ${url}: ${text.slice(0, 200)}`);
  }
  if (!response.ok) {
    const message = (body as { message?: string }).message ?? response.statusText;
    throw new HitnbApiError(response.status, message);
  }
  return body as T;
}
