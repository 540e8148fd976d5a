"use strict";
// The VS Code side of tensorlint: start `tensorlint serve`, hand it the settings, and run the CLI's translate and
// verify commands on the active file. Every decision worth testing lives in ./launch.js.

const { execFile, spawn } = require("child_process");
const vscode = require("vscode");
const { CloseAction, ErrorAction, LanguageClient, RevealOutputChannelOn } = require("vscode-languageclient/node");
const launch = require("./launch");

const CLIENT_ID = "tensorlint";
const PYTHON_EXTENSION_ID = "ms-python.python";
const RESTART_SETTINGS = ["tensorlint.path", "tensorlint.interpreter"];
const PROBE_TIMEOUT_MS = 30000;
const CRASH_WINDOW_MS = 3 * 60 * 1000;
const RESTARTS_PER_WINDOW = 2;
const STDERR_KEPT = 4096;

let client;
let outputChannel;
let currentInvocation;

function log(message) {
  outputChannel.appendLine(`[${new Date().toISOString()}] ${message}`);
}

function primaryFolder() {
  const editor = vscode.window.activeTextEditor;
  const fromEditor = editor && vscode.workspace.getWorkspaceFolder(editor.document.uri);
  return fromEditor || (vscode.workspace.workspaceFolders || [])[0];
}

async function pythonExtensionApi() {
  const extension = vscode.extensions.getExtension(PYTHON_EXTENSION_ID);
  if (!extension) {
    return undefined;
  }
  return extension.isActive ? extension.exports : extension.activate();
}

/** The interpreter selected in the Python extension, as a command line (e.g. ["/proj/.venv/bin/python"]). */
async function selectedInterpreter(resource) {
  try {
    const api = await pythonExtensionApi();
    if (api && api.environments) {
      const environmentPath = api.environments.getActiveEnvironmentPath(resource);
      const environment = await api.environments.resolveEnvironment(environmentPath);
      const executable = environment && environment.executable && environment.executable.uri;
      if (executable) {
        return [executable.fsPath];
      }
    }
    if (api && api.settings && api.settings.getExecutionDetails) {
      const details = api.settings.getExecutionDetails(resource);
      if (details && details.execCommand && details.execCommand.length) {
        return details.execCommand;
      }
    }
  } catch (error) {
    log(`could not ask the Python extension for its interpreter: ${error && error.message ? error.message : error}`);
  }
  return undefined;
}

async function candidateInvocations() {
  const folder = primaryFolder();
  const config = vscode.workspace.getConfiguration(CLIENT_ID, folder && folder.uri);
  return launch.candidateInvocations({
    tensorlintPath: config.get("path"),
    interpreter: config.get("interpreter"),
    pythonExtensionCommand: await selectedInterpreter(folder && folder.uri),
    workspaceFolder: folder && folder.uri.fsPath,
  });
}

async function resolveCurrentInvocation() {
  return (await candidateInvocations())[0];
}

/** Resolves to undefined when `invocation` runs tensorlint, else to why not (one line). */
function probe(invocation, cwd) {
  return new Promise((resolve) => {
    execFile(invocation.command, launch.probeArgs(invocation), { cwd, timeout: PROBE_TIMEOUT_MS }, (error, _stdout, stderr) =>
      resolve(error ? launch.failureCause(error, stderr) : undefined));
  });
}

/** The one message for a server that cannot start, with the buttons that fix it; the client itself stays quiet. */
function reportStartFailure(failures) {
  const message = launch.startFailureMessage(failures);
  log(message);
  const actions = launch.startFailureActions(failures, Boolean(vscode.extensions.getExtension(PYTHON_EXTENSION_ID)));
  void vscode.window.showErrorMessage(message, ...actions.map((action) => action.title)).then((choice) => {
    const action = actions.find((candidate) => candidate.title === choice);
    if (action) {
      void vscode.commands.executeCommand(action.command, ...action.args);
    }
  });
}

/** vscode-languageclient, except that its own error popups ("couldn't create connection", "Restarting server
 * failed", "Pending response rejected", ...) go to the output channel only: a failure gets one message from
 * reportStartFailure, naming its cause, instead of a dozen naming symptoms. */
class QuietLanguageClient extends LanguageClient {
  error(message, data) {
    super.error(message, data, false);
  }
}

function settingsSnapshot(scope) {
  const config = vscode.workspace.getConfiguration(CLIENT_ID, scope);
  const snapshot = {};
  for (const key of ["select", "ignore", "extendSelect", "perFileIgnores", "deployment", "debounce", "maxFileSizeKb"]) {
    snapshot[key] = config.get(key);
  }
  return launch.toServerSettings(snapshot);
}

async function startClient() {
  const folder = primaryFolder();
  const cwd = folder ? folder.uri.fsPath : undefined;
  const { invocation, failures } = await launch.chooseInvocation(await candidateInvocations(), (candidate) => probe(candidate, cwd));
  for (const { invocation: tried, cause } of failures) {
    log(`not using ${launch.commandLine(tried)} (${launch.describeSource(tried.source)}): ${cause}`);
  }
  if (!invocation) {
    currentInvocation = failures[0].invocation;
    reportStartFailure(failures);
    return;
  }
  currentInvocation = invocation;
  const { command, args } = launch.serverCommand(invocation);
  log(`starting ${launch.commandLine(invocation)} (${launch.describeSource(invocation.source)})`);

  let stderrTail = "";
  let started = false;
  let reported = false;
  const crashes = [];
  const giveUp = (cause) => {
    if (!reported) {
      reported = true;
      reportStartFailure([{ invocation, cause }]);
    }
  };
  // The server process is spawned here so that the last thing it wrote (a traceback's last line) can name the
  // cause of a failure; the client still copies its stderr to the output channel.
  const serverOptions = () => {
    const child = spawn(command, args, { cwd });
    child.on("error", (error) => {
      stderrTail = launch.failureCause(error, "");
    });
    child.stderr.on("data", (data) => {
      stderrTail = (stderrTail + data.toString()).slice(-STDERR_KEPT);
    });
    return Promise.resolve(child);
  };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "untitled", language: "python" },
      { notebook: "*", language: "python" },
    ],
    outputChannel,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    initializationOptions: settingsSnapshot(folder && folder.uri),
    // a failed initialize is reported once below; the client would otherwise show its own popup and retry
    initializationFailedHandler: () => false,
    errorHandler: {
      error: (_error, _message, count) => ({ action: count && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true }),
      closed: () => {
        const now = Date.now();
        crashes.push(now);
        while (crashes.length && now - crashes[0] > CRASH_WINDOW_MS) {
          crashes.shift();
        }
        // no restart for a server that never started: it would fail the same way
        if (started && crashes.length <= RESTARTS_PER_WINDOW) {
          log(`server exited (${launch.failureCause(undefined, stderrTail)}); restarting`);
          return { action: CloseAction.Restart, handled: true };
        }
        giveUp(launch.failureCause(undefined, stderrTail));
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    },
    synchronize: {
      configurationSection: CLIENT_ID,
      fileEvents: vscode.workspace.createFileSystemWatcher("**/pyproject.toml"),
    },
    middleware: {
      workspace: {
        // The server asks for section `tensorlint`; answer in its key names (extend-select, ...), per folder.
        configuration: async (params, token, next) => {
          const result = await next(params, token);
          if (!Array.isArray(result)) {
            return result;
          }
          return result.map((value, index) =>
            params.items[index] && params.items[index].section === CLIENT_ID ? launch.toServerSettings(value) : value,
          );
        },
      },
    },
  };

  client = new QuietLanguageClient(CLIENT_ID, "tensorlint", serverOptions, clientOptions);
  try {
    await client.start();
    started = true;
    log("server started");
  } catch (error) {
    client = undefined;
    giveUp(launch.failureCause(error, stderrTail));
  }
}

async function stopClient() {
  if (!client) {
    return;
  }
  const stopping = client;
  client = undefined;
  try {
    await stopping.stop();
  } catch (error) {
    log(`server did not stop cleanly: ${error && error.message ? error.message : error}`);
  }
}

async function restartClient() {
  await stopClient();
  await startClient();
}

/** Run `tensorlint <args>` with the same invocation as the server; resolves to {code, stdout, stderr}. */
function runCli(cliArgs, cwd, token) {
  const invocation = currentInvocation;
  const args = [...invocation.args, ...cliArgs];
  log(`running ${[invocation.command, ...args].join(" ")}`);
  return new Promise((resolve) => {
    const child = execFile(invocation.command, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") {
        resolve({ code: 2, stdout, stderr: launch.launchFailureMessage(invocation, error, stderr, cliArgs[0]) });
        return;
      }
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
    if (token) {
      token.onCancellationRequested(() => child.kill());
    }
  });
}

/** Ask for what the CLI needs, starting from the active Python file and the symbol under the cursor. */
async function modelRequest(title) {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== "python" || editor.document.uri.scheme !== "file") {
    vscode.window.showErrorMessage(`tensorlint: ${title} works on a saved Python file; open one first.`);
    return undefined;
  }
  const document = editor.document;
  if (document.isDirty && !(await document.save())) {
    vscode.window.showErrorMessage(`tensorlint: save ${document.fileName} first; the command reads it from disk.`);
    return undefined;
  }
  const text = document.getText();
  const position = editor.selection.active;
  const wordRange = document.getWordRangeAtPosition(position);
  const word = wordRange ? document.getText(wordRange) : undefined;
  const guess = launch.symbolForCursor(text, position.line, word);
  const symbol = await vscode.window.showInputBox({
    title: `tensorlint: ${title}`,
    prompt: "Model class or builder function (or a line number for a single layer call)",
    value: guess || "",
    validateInput: (value) => (/^\s*[A-Za-z_][\w.]*\s*$|^\s*\d+\s*$/.test(value) ? undefined : "a Python name or a line number"),
  });
  if (!symbol) {
    return undefined;
  }
  const preferred = launch.defaultTarget(text);
  const targets = preferred === "keras" ? ["keras", "torch"] : ["torch", "keras"];
  const target = await vscode.window.showQuickPick(targets, { title: `tensorlint: ${title}: target framework` });
  if (!target) {
    return undefined;
  }
  const folder = vscode.workspace.getWorkspaceFolder(document.uri);
  return { file: document.uri.fsPath, symbol: symbol.trim(), target, cwd: folder ? folder.uri.fsPath : undefined };
}

async function ensureInvocation() {
  if (!currentInvocation) {
    currentInvocation = await resolveCurrentInvocation();
  }
}

async function translateModel() {
  const request = await modelRequest("Translate model");
  if (!request) {
    return;
  }
  await ensureInvocation();
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `tensorlint: translating ${request.symbol}`, cancellable: true },
    (_progress, token) => runCli(launch.translateArgs(request.file, request.symbol, request.target), request.cwd, token),
  );
  if (result.stderr) {
    outputChannel.append(result.stderr.endsWith("\n") ? result.stderr : `${result.stderr}\n`);
  }
  if (result.code !== 0 || !result.stdout.trim()) {
    vscode.window.showErrorMessage(`tensorlint translate failed: ${firstLine(result.stderr) || `exit ${result.code}`}`, "Show Output")
      .then((choice) => choice && outputChannel.show());
    return;
  }
  const document = await vscode.workspace.openTextDocument({ language: "python", content: result.stdout });
  await vscode.window.showTextDocument(document, vscode.ViewColumn.Beside);
}

async function verifyModel() {
  const request = await modelRequest("Verify model");
  if (!request) {
    return;
  }
  const inputShape = await vscode.window.showInputBox({
    title: "tensorlint: Verify model: input shape",
    prompt: "Shape of one input batch, comma separated (e.g. 2,3,32,32 for NCHW images)",
    value: "2,3,32,32",
    validateInput: (value) => (launch.isValidInputShape(value) ? undefined : "positive integers separated by commas"),
  });
  if (!inputShape) {
    return;
  }
  const device = await vscode.window.showQuickPick(["cpu", "cuda", "all"], { title: "tensorlint: Verify model: device" });
  if (!device) {
    return;
  }
  await ensureInvocation();
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `tensorlint: verifying ${request.symbol}`, cancellable: true },
    (_progress, token) =>
      runCli(launch.verifyArgs(request.file, request.symbol, request.target, inputShape, device), request.cwd, token),
  );
  outputChannel.append(result.stdout);
  outputChannel.append(result.stderr);
  outputChannel.show(true);
  if (result.code === 0) {
    vscode.window.showInformationMessage(`tensorlint verify: ${request.symbol} -> ${request.target} PASSED`);
  } else if (result.code === 1) {
    vscode.window.showWarningMessage(`tensorlint verify: ${request.symbol} -> ${request.target} FAILED (see Output)`);
  } else {
    vscode.window.showErrorMessage(`tensorlint verify could not run: ${firstLine(result.stderr) || `exit ${result.code}`}`);
  }
}

function firstLine(text) {
  return String(text || "").trim().split(/\r?\n/)[0];
}

async function activate(context) {
  outputChannel = vscode.window.createOutputChannel("tensorlint");
  context.subscriptions.push(
    outputChannel,
    vscode.commands.registerCommand("tensorlint.restart", restartClient),
    vscode.commands.registerCommand("tensorlint.showOutput", () => outputChannel.show()),
    vscode.commands.registerCommand("tensorlint.translateModel", translateModel),
    vscode.commands.registerCommand("tensorlint.verifyModel", verifyModel),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (RESTART_SETTINGS.some((section) => event.affectsConfiguration(section))) {
        restartClient();
      }
    }),
  );
  try {
    const api = await pythonExtensionApi();
    if (api && api.environments && api.environments.onDidChangeActiveEnvironmentPath) {
      context.subscriptions.push(api.environments.onDidChangeActiveEnvironmentPath(() => restartClient()));
    }
  } catch (error) {
    log(`Python extension unavailable: ${error && error.message ? error.message : error}`);
  }
  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate };
