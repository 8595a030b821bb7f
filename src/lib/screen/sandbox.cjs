// The BullMQ sandboxed processor (queue-worker.ts): plain CommonJS that BullMQ's child process can import, which
// registers tsx and hands over to the TypeScript processor. It leaves when its worker process is gone.
require('tsx/cjs');
process.on('disconnect', () => process.exit(0));
module.exports = require('./sandbox-processor.ts').default;
