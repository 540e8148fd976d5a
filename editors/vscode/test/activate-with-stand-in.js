"use strict";
// Activates extension.js (with the real vscode-languageclient) against the stand-in `vscode` module in this process,
// waits, deactivates, and prints what a user would have seen as JSON. Run by extension.test.js as
// `node activate-with-stand-in.js '{"pythonInterpreter": ..., "folder": ..., "path": ..., "waitMs": ...}'`, in its own
// process: vscode-languageclient leaves rejected promises unhandled when a server dies during start (its stop()
// after a failed initialize); the extension host only logs those, and so does this driver (`unhandled`).
const Module = require("module");
const { createStandIn } = require("./vscode-stand-in");

async function main(options) {
  const { vscode, recorded } = createStandIn(options);
  recorded.unhandled = [];
  process.on("unhandledRejection", (error) => recorded.unhandled.push(String(error && error.message ? error.message : error)));
  const originalLoad = Module._load;
  Module._load = function (request, ...rest) {
    return request === "vscode" ? vscode : originalLoad.call(this, request, ...rest);
  };
  process.env.PATH = options.path;
  const extension = require("../src/extension");
  await extension.activate({ subscriptions: [] });
  await new Promise((resolve) => setTimeout(resolve, options.waitMs || 1000));
  await extension.deactivate();
  process.stdout.write(JSON.stringify(recorded));
  process.exit(0);
}

if (require.main === module && process.argv[2]) {
  main(JSON.parse(process.argv[2])).catch((error) => {
    console.error(error && error.stack ? error.stack : error);
    process.exit(1);
  });
}
