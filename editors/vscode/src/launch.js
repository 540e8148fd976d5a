"use strict";
// Pure launch logic of the tensorlint extension: no `vscode` import, so `node --test` covers it.

const os = require("os");

const SERVER_MODULE = "tensorlint.server";

/** Expand `~`, `${userHome}`, `${workspaceFolder}` and `${env:NAME}` the way VS Code users expect in paths. */
function expandVariables(value, { workspaceFolder, homeDir = os.homedir(), env = process.env } = {}) {
  let out = String(value);
  if (out === "~" || out.startsWith("~/") || out.startsWith("~\\")) {
    out = homeDir + out.slice(1);
  }
  out = out.replace(/\$\{userHome\}/g, homeDir);
  out = out.replace(/\$\{env:([^}]+)\}/g, (_, name) => env[name] ?? "");
  if (workspaceFolder) {
    out = out.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  }
  return out;
}

function nonEmptyList(value) {
  if (typeof value === "string") {
    return value.trim() ? [value.trim()] : [];
  }
  return Array.isArray(value) ? value.filter((part) => typeof part === "string" && part.length > 0) : [];
}

// Where a command line came from, as the user can act on it: the setting to open, or the Python extension's picker.
const SOURCES = {
  "tensorlint.path": { label: "the tensorlint.path setting", setting: "tensorlint.path" },
  "tensorlint.interpreter": { label: "the tensorlint.interpreter setting", setting: "tensorlint.interpreter" },
  "python extension": { label: "the interpreter selected in the Python extension", selectInterpreter: true },
  PATH: { label: "`tensorlint` on PATH", setting: "tensorlint.path" },
};

function describeSource(source) {
  return (SOURCES[source] || { label: source }).label;
}

/**
 * The ways to run tensorlint, to be tried in order; each is `{command, args, source}` where `args` is the prefix
 * that precedes a subcommand (`serve`, `translate`, ...):
 *   1. `tensorlint.path`: a tensorlint executable (plus optional leading arguments), alone: the user chose it;
 *   2. `tensorlint.interpreter`: a Python interpreter that has tensorlint installed, alone as well;
 *   3. the interpreter selected in the Python extension, then `tensorlint` on PATH (the selected interpreter is
 *      often the project's, which need not have tensorlint).
 * Interpreters run `python -m tensorlint.server`, which needs no console script on PATH.
 */
function candidateInvocations({ tensorlintPath, interpreter, pythonExtensionCommand, workspaceFolder, homeDir, env } = {}) {
  const expand = (parts) => parts.map((part) => expandVariables(part, { workspaceFolder, homeDir, env }));
  const explicitPath = nonEmptyList(tensorlintPath);
  if (explicitPath.length) {
    const [command, ...args] = expand(explicitPath);
    return [{ command, args, source: "tensorlint.path" }];
  }
  const explicitInterpreter = nonEmptyList(interpreter);
  if (explicitInterpreter.length) {
    const [command, ...args] = expand(explicitInterpreter);
    return [{ command, args: [...args, "-m", SERVER_MODULE], source: "tensorlint.interpreter" }];
  }
  const candidates = [];
  const selected = nonEmptyList(pythonExtensionCommand);
  if (selected.length) {
    const [command, ...args] = selected;
    candidates.push({ command, args: [...args, "-m", SERVER_MODULE], source: "python extension" });
  }
  candidates.push({ command: "tensorlint", args: [], source: "PATH" });
  return candidates;
}

/** The first way to run tensorlint, without trying it (what the CLI commands use before the server started). */
function resolveInvocation(options = {}) {
  return candidateInvocations(options)[0];
}

/** The arguments that check a candidate cheaply: it prints its version and exits 0 when tensorlint is there. */
function probeArgs(invocation) {
  return [...invocation.args, "--version"];
}

/** Why a probe or a start failed, in one line: "command not found", or the last line the process wrote to stderr
 * (for a Python without tensorlint: "... No module named tensorlint.server"). */
function failureCause(error, stderr) {
  if (error && (error.code === "ENOENT" || /\bENOENT\b/.test(String(error.message ?? "")))) {
    return "command not found";
  }
  const lines = String(stderr ?? "").split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  if (lines.length) {
    return lines[lines.length - 1];
  }
  if (error && typeof error.code === "number") {
    return `exited with code ${error.code}`;
  }
  return error ? String(error.message ?? error) : "the server exited without a message";
}

/**
 * Try the candidates in order with `probe(invocation)`, which resolves to undefined when that one works and to a
 * one-line cause otherwise. Resolves to `{invocation, failures}`: the first that works (undefined when none does)
 * and, for each one that did not, `{invocation, cause}`.
 */
async function chooseInvocation(candidates, probe) {
  const failures = [];
  for (const invocation of candidates) {
    const cause = await probe(invocation);
    if (!cause) {
      return { invocation, failures };
    }
    failures.push({ invocation, cause });
  }
  return { invocation: undefined, failures };
}

function serverCommand(invocation) {
  return { command: invocation.command, args: [...invocation.args, "serve"] };
}

function commandLine(invocation, subcommand = "serve") {
  return [invocation.command, ...invocation.args, subcommand].join(" ");
}

// VS Code setting (camelCase, as VS Code settings are spelled) -> server/pyproject key.
const SETTING_KEYS = {
  select: "select",
  ignore: "ignore",
  extendSelect: "extend-select",
  perFileIgnores: "per-file-ignores",
  deployment: "deployment",
  debounce: "debounce",
  maxFileSizeKb: "max-file-size-kb",
};

/**
 * The `tensorlint` settings as the server reads them (initializationOptions and workspace/configuration).
 * Unset values (null/undefined) are left out so `[tool.tensorlint]` in pyproject.toml decides them.
 */
function toServerSettings(config) {
  const settings = {};
  if (!config || typeof config !== "object") {
    return settings;
  }
  for (const [vscodeKey, serverKey] of Object.entries(SETTING_KEYS)) {
    const value = config[vscodeKey] ?? config[serverKey];
    if (value !== null && value !== undefined) {
      settings[serverKey] = value;
    }
  }
  return settings;
}

const DEFINITION = /^(\s*)(?:async\s+)?(class|def)\s+([A-Za-z_][A-Za-z0-9_]*)/;

/** Top-level classes and functions of a Python source: [{name, kind, line}] (0-based lines). */
function topLevelSymbols(text) {
  const symbols = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const match = DEFINITION.exec(line);
    if (match && match[1] === "") {
      symbols.push({ name: match[3], kind: match[2], line: index });
    }
  });
  return symbols;
}

/**
 * The symbol to translate or verify for a cursor position: the word under the cursor when it names a top-level
 * class/function of the file, else the top-level class/function the cursor is in, else null.
 */
function symbolForCursor(text, line, wordAtCursor) {
  const symbols = topLevelSymbols(text);
  if (wordAtCursor) {
    const named = symbols.find((symbol) => symbol.name === wordAtCursor);
    if (named) {
      return named.name;
    }
  }
  const lines = text.split(/\r?\n/);
  let enclosing = null;
  for (const symbol of symbols) {
    if (symbol.line > line) {
      break;
    }
    enclosing = symbol;
  }
  if (!enclosing) {
    return null;
  }
  // A non-indented statement between the definition and the cursor means the cursor is outside it.
  for (let index = enclosing.line + 1; index <= line && index < lines.length; index += 1) {
    const current = lines[index];
    if (current.trim() && !/^\s/.test(current) && !current.trimStart().startsWith("#") && !/^[)\]}]/.test(current)) {
      return null;
    }
  }
  return enclosing.name;
}

/** The framework to translate to: the other one than the file uses (keras for torch code and vice versa). */
function defaultTarget(text) {
  const usesTorch = /^\s*(?:import|from)\s+torch\b/m.test(text);
  const usesKeras = /^\s*(?:import|from)\s+(?:keras|tensorflow)\b/m.test(text);
  if (usesKeras && !usesTorch) {
    return "torch";
  }
  return "keras";
}

/** `tensorlint translate FILE:SYMBOL --to TARGET` (arguments after the invocation prefix). */
function translateArgs(file, symbol, target) {
  return ["translate", `${file}:${symbol}`, "--to", target];
}

/** `tensorlint verify FILE:SYMBOL --to TARGET --input-shape S [--device D]`. */
function verifyArgs(file, symbol, target, inputShape, device) {
  const args = ["verify", `${file}:${symbol}`, "--to", target];
  const shape = String(inputShape ?? "").replace(/[\s()[\]]/g, "");
  if (shape) {
    args.push("--input-shape", shape);
  }
  if (device) {
    args.push("--device", device);
  }
  return args;
}

const INSTALL_HINT = "pip install <a tensorlint checkout or its Git URL>";

/**
 * The one message shown when the server cannot start: every command line tried (with `serve`), where it came
 * from and why it failed, then what to do about the first (the one the user is most likely to have meant).
 */
function startFailureMessage(failures, { subcommand = "serve", what = "the language server did not start" } = {}) {
  const tried = failures.map(({ invocation, cause }) =>
    `\`${commandLine(invocation, subcommand)}\` (${describeSource(invocation.source)}): ${cause}`);
  const first = failures[0].invocation;
  let hint;
  if (first.source === "tensorlint.path") {
    hint = "Point tensorlint.path at a tensorlint executable.";
  } else if (first.source === "PATH") {
    hint = `Install tensorlint (\`${INSTALL_HINT}\`) where the editor finds it (the editor sees the PATH of your login shell, not of the terminal that started it), select an interpreter that has it, or set tensorlint.path.`;
  } else {
    const python = [first.command, ...first.args.slice(0, -2)].join(" ");
    hint = `Install tensorlint into that interpreter (\`${python} -m ${INSTALL_HINT}\`)${first.source === "python extension" ? ", select another interpreter" : ""} or set tensorlint.path.`;
  }
  return `tensorlint: ${what}. ${tried.join("; ")}. ${hint}`;
}

/**
 * The buttons of that message: `{title, command, args}` for vscode.commands.executeCommand. "Select Interpreter"
 * (the Python extension's picker) when that extension is installed and no tensorlint setting decided, else the
 * setting that did; and "Show Output".
 */
function startFailureActions(failures, hasPythonExtension) {
  const source = SOURCES[failures[0].invocation.source] || {};
  const explicit = failures[0].invocation.source.startsWith("tensorlint.");
  const fix = !explicit && hasPythonExtension
    ? { title: "Select Interpreter", command: "python.setInterpreter", args: [] }
    : { title: "Open Setting", command: "workbench.action.openSettings", args: [source.setting || "tensorlint.path"] };
  return [fix, { title: "Show Output", command: "tensorlint.showOutput", args: [] }];
}

/** A clear message for a CLI command that could not run (translate/verify), naming what was tried. */
function launchFailureMessage(invocation, error, stderr, subcommand = "...") {
  return startFailureMessage([{ invocation, cause: failureCause(error, stderr) }],
    { subcommand, what: "the command could not run" });
}

/** A valid shape is comma-separated positive integers, e.g. `2,3,32,32`. */
function isValidInputShape(value) {
  return /^\s*[([]?\s*\d+(\s*,\s*\d+)*\s*[)\]]?\s*$/.test(String(value)) && !/(^|[^\d])0+([^\d]|$)/.test(value);
}

module.exports = {
  SERVER_MODULE,
  expandVariables,
  describeSource,
  candidateInvocations,
  resolveInvocation,
  probeArgs,
  failureCause,
  chooseInvocation,
  commandLine,
  startFailureMessage,
  startFailureActions,
  serverCommand,
  toServerSettings,
  topLevelSymbols,
  symbolForCursor,
  defaultTarget,
  translateArgs,
  verifyArgs,
  launchFailureMessage,
  isValidInputShape,
};
