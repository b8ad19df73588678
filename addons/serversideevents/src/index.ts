export { ServerSideEvents } from './serversideevents.js';
import { ServerSideEvents } from './serversideevents.js';
export default ServerSideEvents;
