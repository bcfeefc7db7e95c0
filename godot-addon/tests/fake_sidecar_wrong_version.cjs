// A sidecar that announces another version: the addon must refuse it by name.
const body = Buffer.from([0x94, 0x40, 0x01, 0xa5, ...Buffer.from('9.9.9'), 0x90]);
const prefix = Buffer.alloc(4);
prefix.writeUInt32LE(body.length, 0);
process.stdout.write(Buffer.concat([prefix, body]));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
