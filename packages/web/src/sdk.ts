// The one seam between the web app and @parley/sdk: views import SDK names from here.
export { AuthClient, Client, Conversation, ParleyError } from '@parley/sdk';
export type { ClientEvents, ConnectionState, Paginator } from '@parley/sdk';
