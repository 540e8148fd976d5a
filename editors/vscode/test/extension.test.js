"use strict";
// extension.js with the real vscode-languageclient and a stand-in `vscode` module: which server it starts, and what
// a user sees when none can start. Needs `npm ci` (skipped without node_modules).
const test = require("node:test");
const assert = require("node:assert/strict");
const { execFileSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const CLIENT = path.join(__dirname, "..", "node_modules", "vscode-languageclient");
const skip = fs.existsSync(CLIENT) ? false : "vscode-languageclient is not installed (run `npm ci`)";

/** An executable shell script in `dir`; each run appends its name and arguments to `dir/calls.log`. */
function script(dir, name, body) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\necho "${name} $*" >> "${dir}/calls.log"\n${body}\n`, { mode: 0o755 });
  return file;
}

function calls(dir) {
  const log = path.join(dir, "calls.log");
  return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
}

function activate(options) {
  const out = execFileSync(process.execPath, [path.join(__dirname, "activate-with-stand-in.js"), JSON.stringify(options)],
    { encoding: "utf8", timeout: 60000 });
  return JSON.parse(out);
}

function popups(seen) {
  return [...seen.errors, ...seen.warnings, ...seen.infos];
}

// A Python that lacks tensorlint answers `-m tensorlint.server ...` like this.
const NO_MODULE = `echo "$0: Error while finding module specification for 'tensorlint.server' ` +
  `(ModuleNotFoundError: No module named 'tensorlint')" >&2; exit 1`;

test("selected interpreter without tensorlint and none on PATH: exactly one message, naming the cause", { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tl-ext-"));
  const emptyPath = fs.mkdtempSync(path.join(os.tmpdir(), "tl-path-"));
  const python = script(dir, "python", NO_MODULE);
  const seen = activate({ pythonInterpreter: python, folder: dir, path: emptyPath, waitMs: 1500 });
  assert.equal(popups(seen).length, 1, JSON.stringify(seen));
  const [{ message, items }] = seen.errors;
  assert.ok(message.includes(`\`${python} -m tensorlint.server serve\` (the interpreter selected in the Python extension): ` +
    `${python}: Error while finding module specification for 'tensorlint.server' (ModuleNotFoundError: No module named 'tensorlint')`), message);
  assert.ok(message.includes("`tensorlint serve` (`tensorlint` on PATH): command not found"), message);
  assert.deepEqual(items, ["Select Interpreter", "Show Output"]);
  assert.deepEqual(calls(dir), ["python -m tensorlint.server --version"]); // probed once, never started
});

test("selected interpreter without tensorlint: tensorlint on PATH is used; a server dying at start is one message", { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tl-ext-"));
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "tl-bin-"));
  const python = script(dir, "python", NO_MODULE);
  // answers --version, but its server dies at start after its imports took a moment (as Python's do): the client
  // must not restart it, and the user must not get a popup per symptom
  script(bin, "tensorlint", `if [ "$1" = --version ]; then echo "tensorlint 0.1.0"; exit 0; fi
sleep 0.5; echo "Traceback (most recent call last):" >&2
echo "ImportError: cannot import name 'LanguageServer' from 'pygls.lsp.server'" >&2; exit 1`);
  const seen = activate({ pythonInterpreter: python, folder: dir, path: `${bin}${path.delimiter}/usr/bin${path.delimiter}/bin`, waitMs: 4000 });
  const output = seen.output.join("");
  assert.match(output, /not using .*python -m tensorlint\.server serve \(the interpreter selected in the Python extension\)/);
  assert.match(output, /starting tensorlint serve \(`tensorlint` on PATH\)/);
  assert.deepEqual(calls(bin), ["tensorlint --version", "tensorlint serve"]); // started once, never restarted
  assert.equal(popups(seen).length, 1, JSON.stringify(seen));
  assert.match(seen.errors[0].message, /`tensorlint serve` \(`tensorlint` on PATH\): ImportError: cannot import name 'LanguageServer'/);
});

const VENV_TENSORLINT = path.join(__dirname, "..", "..", "..", ".venv", "bin", "tensorlint");

test("tensorlint on PATH (the real server) starts with VS Code's settings, and nothing pops up", {
  skip: skip || (fs.existsSync(VENV_TENSORLINT) ? false : "no tensorlint in the checkout's .venv"),
}, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tl-ext-"));
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "tl-bin-"));
  fs.symlinkSync(VENV_TENSORLINT, path.join(bin, "tensorlint"));
  const seen = activate({ folder: dir, path: `${bin}${path.delimiter}/usr/bin${path.delimiter}/bin`, waitMs: 4000,
    settings: { extendSelect: ["DP"], maxFileSizeKb: 500 } });
  assert.match(seen.output.join(""), /starting tensorlint serve \(`tensorlint` on PATH\)[^]*server started/);
  assert.deepEqual(popups(seen), []);
});
