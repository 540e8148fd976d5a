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

/**
 * Decide how to run tensorlint. Returns `{command, args, source}` where `args` is the prefix that precedes
 * a subcommand (`serve`, `translate`, ...). Precedence, most explicit first:
 *   1. `tensorlint.path`: a tensorlint executable (plus optional leading arguments);
 *   2. `tensorlint.interpreter`: a Python interpreter that has tensorlint installed;
 *   3. the interpreter selected in the Python extension;
 *   4. `tensorlint` on PATH.
 * Interpreters run `python -m tensorlint.server`, which needs no console script on PATH.
 */
function resolveInvocation({ tensorlintPath, interpreter, pythonExtensionCommand, workspaceFolder, homeDir, env } = {}) {
  const expand = (parts) => parts.map((part) => expandVariables(part, { workspaceFolder, homeDir, env }));
  const explicitPath = nonEmptyList(tensorlintPath);
  if (explicitPath.length) {
    const [command, ...args] = expand(explicitPath);
    return { command, args, source: "tensorlint.path" };
  }
  const explicitInterpreter = nonEmptyList(interpreter);
  if (explicitInterpreter.length) {
    const [command, ...args] = expand(explicitInterpreter);
    return { command, args: [...args, "-m", SERVER_MODULE], source: "tensorlint.interpreter" };
  }
  const selected = nonEmptyList(pythonExtensionCommand);
  if (selected.length) {
    const [command, ...args] = selected;
    return { command, args: [...args, "-m", SERVER_MODULE], source: "Python extension interpreter" };
  }
  return { command: "tensorlint", args: [], source: "PATH" };
}

function serverCommand(invocation) {
  return { command: invocation.command, args: [...invocation.args, "serve"] };
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

/** A clear message for a failed launch, naming what was tried and how to fix it. */
function launchFailureMessage(invocation, error) {
  const tried = [invocation.command, ...invocation.args].join(" ");
  const notFound = error && (error.code === "ENOENT" || /ENOENT|not found/i.test(String(error.message ?? error)));
  const hint =
    invocation.source === "PATH"
      ? "Install it (`pip install tensorlint`) in the selected Python environment, or set `tensorlint.path`."
      : `Check the \`${invocation.source}\` setting, or install tensorlint there (\`pip install tensorlint\`).`;
  return notFound
    ? `tensorlint: could not start \`${tried}\` (${invocation.source}): command not found. ${hint}`
    : `tensorlint: \`${tried}\` (${invocation.source}) failed: ${error && error.message ? error.message : error}. ${hint}`;
}

/** A valid shape is comma-separated positive integers, e.g. `2,3,32,32`. */
function isValidInputShape(value) {
  return /^\s*[([]?\s*\d+(\s*,\s*\d+)*\s*[)\]]?\s*$/.test(String(value)) && !/(^|[^\d])0+([^\d]|$)/.test(value);
}

module.exports = {
  SERVER_MODULE,
  expandVariables,
  resolveInvocation,
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
