import type { DataSource } from 'typeorm';
import { rejectsConsole } from '../features/notificationViews/console';
import type { ConsoleExtension } from '../workers/http/console/kit';

/** The features' pages in the console (/console), behind the same sign-in as the console's own. */
export function consoleExtensions(ds: DataSource): ConsoleExtension[] {
  return [rejectsConsole(ds)];
}
