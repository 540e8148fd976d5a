"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const launch = require("../src/launch");

const HOME = "/home/ada";

test("tensorlint.path wins over every interpreter and keeps its leading arguments", () => {
  const invocation = launch.resolveInvocation({
    tensorlintPath: ["~/bin/tensorlint", "--no-color"],
    interpreter: ["/usr/bin/python3"],
    pythonExtensionCommand: ["/proj/.venv/bin/python"],
    homeDir: HOME,
  });
  assert.deepEqual(invocation, { command: "/home/ada/bin/tensorlint", args: ["--no-color"], source: "tensorlint.path" });
  assert.deepEqual(launch.serverCommand(invocation), { command: "/home/ada/bin/tensorlint", args: ["--no-color", "serve"] });
});

test("tensorlint.interpreter runs the server module, expanding ${workspaceFolder}", () => {
  const invocation = launch.resolveInvocation({
    interpreter: ["${workspaceFolder}/.venv/bin/python"],
    pythonExtensionCommand: ["/usr/bin/python3"],
    workspaceFolder: "/work/proj",
  });
  assert.equal(invocation.source, "tensorlint.interpreter");
  assert.deepEqual(launch.serverCommand(invocation), {
    command: "/work/proj/.venv/bin/python",
    args: ["-m", "tensorlint.server", "serve"],
  });
});

test("the Python extension's interpreter is used when nothing is configured, extra words kept", () => {
  const invocation = launch.resolveInvocation({
    tensorlintPath: [],
    interpreter: [],
    pythonExtensionCommand: ["conda", "run", "-n", "ml", "python"],
  });
  assert.equal(invocation.source, "Python extension interpreter");
  assert.deepEqual(launch.serverCommand(invocation), {
    command: "conda",
    args: ["run", "-n", "ml", "python", "-m", "tensorlint.server", "serve"],
  });
});

test("with nothing configured and no Python extension, tensorlint on PATH", () => {
  assert.deepEqual(launch.serverCommand(launch.resolveInvocation({})), { command: "tensorlint", args: ["serve"] });
  assert.deepEqual(launch.resolveInvocation({ tensorlintPath: [""], interpreter: "  " }).source, "PATH");
});

test("a plain string setting counts as a one-element command", () => {
  const invocation = launch.resolveInvocation({ interpreter: "/opt/py/bin/python" });
  assert.deepEqual(launch.serverCommand(invocation).args, ["-m", "tensorlint.server", "serve"]);
  assert.equal(invocation.command, "/opt/py/bin/python");
});

test("variables: ${userHome}, ${env:NAME} (missing -> empty), ~ only at the start", () => {
  const env = { VENV: "/venvs/ml" };
  assert.equal(launch.expandVariables("${env:VENV}/bin/python", { env }), "/venvs/ml/bin/python");
  assert.equal(launch.expandVariables("${env:NOPE}/python", { env }), "/python");
  assert.equal(launch.expandVariables("${userHome}/x", { homeDir: HOME }), "/home/ada/x");
  assert.equal(launch.expandVariables("/a/~/b", { homeDir: HOME }), "/a/~/b");
  assert.equal(launch.expandVariables("${workspaceFolder}/x", {}), "${workspaceFolder}/x");
});

test("settings are renamed to the server's keys and unset ones are left to pyproject.toml", () => {
  const settings = launch.toServerSettings({
    select: ["PT", "TF001"],
    ignore: null,
    extendSelect: ["DP"],
    perFileIgnores: { "tests/*": ["PT006"] },
    deployment: ["mobile"],
    debounce: 250,
    maxFileSizeKb: undefined,
    path: ["ignored"],
    trace: { server: "verbose" },
  });
  assert.deepEqual(settings, {
    select: ["PT", "TF001"],
    "extend-select": ["DP"],
    "per-file-ignores": { "tests/*": ["PT006"] },
    deployment: ["mobile"],
    debounce: 250,
  });
  assert.deepEqual(launch.toServerSettings(undefined), {});
  assert.deepEqual(launch.toServerSettings({ "max-file-size-kb": 10, ignore: [] }), { ignore: [], "max-file-size-kb": 10 });
});

const MODEL = [
  "import torch",
  "from torch import nn",
  "",
  "class Net(nn.Module):",
  "    def __init__(self):",
  "        super().__init__()",
  "        self.fc = nn.Linear(4, 2)",
  "",
  "    def forward(self, x):",
  "        return self.fc(x)",
  "",
  "model = Net()",
  "def build():",
  "    return nn.Sequential(",
  "nn.Linear(2, 2),",
  "    )",
].join("\n");

test("top-level classes and functions, not methods", () => {
  assert.deepEqual(launch.topLevelSymbols(MODEL), [
    { name: "Net", kind: "class", line: 3 },
    { name: "build", kind: "def", line: 12 },
  ]);
});

test("the symbol for the cursor: enclosing top-level definition, or a named one under the cursor", () => {
  assert.equal(launch.symbolForCursor(MODEL, 9, "fc"), "Net");
  assert.equal(launch.symbolForCursor(MODEL, 3, "Net"), "Net");
  assert.equal(launch.symbolForCursor(MODEL, 7, undefined), "Net");
  assert.equal(launch.symbolForCursor(MODEL, 11, "model"), null);
  assert.equal(launch.symbolForCursor(MODEL, 11, "Net"), "Net");
  assert.equal(launch.symbolForCursor(MODEL, 0, "torch"), null);
  assert.equal(launch.symbolForCursor(MODEL, 13, "Sequential"), "build");
});

test("default target is the other framework", () => {
  assert.equal(launch.defaultTarget(MODEL), "keras");
  assert.equal(launch.defaultTarget("import keras\nfrom keras import layers\n"), "torch");
  assert.equal(launch.defaultTarget("import tensorflow as tf\n"), "torch");
  assert.equal(launch.defaultTarget("x = 1\n"), "keras");
});

test("CLI arguments follow the translate and verify contracts", () => {
  assert.deepEqual(launch.translateArgs("/p/model.py", "Net", "keras"), ["translate", "/p/model.py:Net", "--to", "keras"]);
  assert.deepEqual(launch.verifyArgs("/p/model.py", "Net", "keras", " (2, 3, 32, 32) ", "cpu"), [
    "verify", "/p/model.py:Net", "--to", "keras", "--input-shape", "2,3,32,32", "--device", "cpu",
  ]);
  assert.deepEqual(launch.verifyArgs("/p/m.py", "build", "torch", "", undefined), ["verify", "/p/m.py:build", "--to", "torch"]);
});

test("input shapes: positive integers only", () => {
  for (const good of ["2,3,32,32", " 1 , 10 ", "(8, 100)", "[4]"]) {
    assert.ok(launch.isValidInputShape(good), good);
  }
  for (const bad of ["", "2,,3", "2,0,3", "a,b", "2.5,3", "-1,3", "0"]) {
    assert.ok(!launch.isValidInputShape(bad), bad);
  }
});

test("launch failures say what was tried and how to fix it", () => {
  const onPath = launch.resolveInvocation({});
  const missing = launch.launchFailureMessage(onPath, Object.assign(new Error("spawn tensorlint ENOENT"), { code: "ENOENT" }));
  assert.match(missing, /could not start `tensorlint` \(PATH\): command not found/);
  assert.match(missing, /pip install tensorlint/);
  const configured = launch.resolveInvocation({ interpreter: ["/nope/python"] });
  const crashed = launch.launchFailureMessage(configured, new Error("exit code 1"));
  assert.match(crashed, /`\/nope\/python -m tensorlint.server` \(tensorlint.interpreter\) failed: exit code 1/);
  assert.match(crashed, /Check the `tensorlint.interpreter` setting/);
});
