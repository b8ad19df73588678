import { ClickHouseSink } from './clickhouse.js';

export { ClickHouseSink };
export { BatchQueue, type QueueOptions, type QueueStats } from './queue.js';
export { flowToRow, tableDdl, type ClickHouseRow, type RowOptions } from './row.js';
export default ClickHouseSink;
