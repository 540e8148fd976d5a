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

test("the Python extension's interpreter comes first when nothing is configured, then tensorlint on PATH", () => {
  const candidates = launch.candidateInvocations({
    tensorlintPath: [],
    interpreter: [],
    pythonExtensionCommand: ["conda", "run", "-n", "ml", "python"],
  });
  assert.deepEqual(candidates.map((candidate) => candidate.source), ["python extension", "PATH"]);
  assert.deepEqual(launch.serverCommand(candidates[0]), {
    command: "conda",
    args: ["run", "-n", "ml", "python", "-m", "tensorlint.server", "serve"],
  });
  assert.deepEqual(launch.serverCommand(candidates[1]), { command: "tensorlint", args: ["serve"] });
  assert.deepEqual(launch.resolveInvocation({ pythonExtensionCommand: ["/p/python"] }).source, "python extension");
});

test("a tensorlint setting is the only candidate: the user chose it", () => {
  assert.deepEqual(launch.candidateInvocations({ tensorlintPath: ["/opt/tl"], pythonExtensionCommand: ["/p/python"] })
    .map((candidate) => candidate.source), ["tensorlint.path"]);
  assert.deepEqual(launch.candidateInvocations({ interpreter: ["/opt/python"], pythonExtensionCommand: ["/p/python"] })
    .map((candidate) => candidate.source), ["tensorlint.interpreter"]);
});

test("the selected interpreter without tensorlint falls back to tensorlint on PATH; probes use --version", async () => {
  const candidates = launch.candidateInvocations({ pythonExtensionCommand: ["/proj/.venv/bin/python"] });
  const probed = [];
  const chosen = await launch.chooseInvocation(candidates, async (invocation) => {
    probed.push([invocation.command, ...launch.probeArgs(invocation)]);
    return invocation.source === "python extension" ? "No module named 'tensorlint'" : undefined;
  });
  assert.deepEqual(probed, [["/proj/.venv/bin/python", "-m", "tensorlint.server", "--version"], ["tensorlint", "--version"]]);
  assert.equal(chosen.invocation.source, "PATH");
  assert.deepEqual(chosen.failures, [{ invocation: candidates[0], cause: "No module named 'tensorlint'" }]);
  const none = await launch.chooseInvocation(candidates, async () => "command not found");
  assert.equal(none.invocation, undefined);
  assert.equal(none.failures.length, 2);
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

test("the cause of a failure is the process's last word, or command not found", () => {
  const python = "/proj/.venv/bin/python: Error while finding module specification for 'tensorlint.server' " +
    "(ModuleNotFoundError: No module named 'tensorlint')\n";
  assert.equal(launch.failureCause(Object.assign(new Error("Command failed"), { code: 1 }), python), python.trim());
  assert.equal(launch.failureCause(Object.assign(new Error("spawn tensorlint ENOENT"), { code: "ENOENT" }), ""), "command not found");
  assert.equal(launch.failureCause(Object.assign(new Error("Command failed"), { code: 3 }), "  \n"), "exited with code 3");
  assert.equal(launch.failureCause(undefined, "Traceback (most recent call last):\n  ...\nImportError: pygls\n"), "ImportError: pygls");
  assert.equal(launch.failureCause(undefined, ""), "the server exited without a message");
});

test("one start-up failure message: every command tried with `serve`, where it came from, the real cause", () => {
  const candidates = launch.candidateInvocations({ pythonExtensionCommand: ["/proj/.venv/bin/python"] });
  const failures = [
    { invocation: candidates[0], cause: "ModuleNotFoundError: No module named 'tensorlint'" },
    { invocation: candidates[1], cause: "command not found" },
  ];
  const message = launch.startFailureMessage(failures);
  assert.match(message, /^tensorlint: the language server did not start\. /);
  assert.ok(message.includes("`/proj/.venv/bin/python -m tensorlint.server serve` (the interpreter selected in the " +
    "Python extension): ModuleNotFoundError: No module named 'tensorlint'"), message);
  assert.ok(message.includes("`tensorlint serve` (`tensorlint` on PATH): command not found"), message);
  assert.ok(message.includes("`/proj/.venv/bin/python -m pip install"), message);
  assert.ok(!/Python extension interpreter/.test(message), "names no setting that does not exist");
  assert.deepEqual(launch.startFailureActions(failures, true).map((action) => [action.title, action.command]), [
    ["Select Interpreter", "python.setInterpreter"], ["Show Output", "tensorlint.showOutput"]]);
  // without the Python extension there is no interpreter to select: the setting that would fix it opens
  assert.deepEqual(launch.startFailureActions(failures, false)[0],
    { title: "Open Setting", command: "workbench.action.openSettings", args: ["tensorlint.path"] });
});

test("a failing tensorlint setting is named, and its button opens that setting", () => {
  const [configured] = launch.candidateInvocations({ interpreter: ["/nope/python"], pythonExtensionCommand: ["/p/python"] });
  const failures = [{ invocation: configured, cause: "command not found" }];
  const message = launch.startFailureMessage(failures);
  assert.ok(message.includes("`/nope/python -m tensorlint.server serve` (the tensorlint.interpreter setting): command not found"), message);
  assert.deepEqual(launch.startFailureActions(failures, true)[0],
    { title: "Open Setting", command: "workbench.action.openSettings", args: ["tensorlint.interpreter"] });
  const [path] = launch.candidateInvocations({ tensorlintPath: ["/opt/tl"] });
  assert.match(launch.startFailureMessage([{ invocation: path, cause: "command not found" }]), /Point tensorlint.path at/);
  const onPath = launch.launchFailureMessage(launch.resolveInvocation({}), Object.assign(new Error("spawn tensorlint ENOENT"), { code: "ENOENT" }), "", "translate");
  assert.match(onPath, /`tensorlint translate` \(`tensorlint` on PATH\): command not found/);
  assert.match(onPath, /login shell/);
});
