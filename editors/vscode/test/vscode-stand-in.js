"use strict";
// A stand-in for the `vscode` module, enough for extension.js and the real vscode-languageclient to run under
// `node --test`: what the tests look at is recorded (messages shown, commands run, output lines); everything else
// the client touches is an inert object that accepts any call.

function inert(name) {
  const target = function () {};
  return new Proxy(target, {
    get(_target, property) {
      if (property === "then") {
        return undefined; // not a promise
      }
      if (property === Symbol.iterator) {
        return function* () {};
      }
      if (property === Symbol.toPrimitive) {
        return () => name;
      }
      return inert(`${name}.${String(property)}`);
    },
    apply: () => inert(`${name}()`),
    construct: () => inert(`new ${name}`),
  });
}

class Disposable {
  constructor(onDispose) {
    this.onDispose = onDispose;
  }
  static from(...disposables) {
    return new Disposable(() => disposables.forEach((d) => d && d.dispose && d.dispose()));
  }
  dispose() {
    if (this.onDispose) {
      this.onDispose();
    }
  }
}

class EventEmitter {
  constructor() {
    this.listeners = new Set();
    this.event = (listener) => {
      this.listeners.add(listener);
      return new Disposable(() => this.listeners.delete(listener));
    };
  }
  fire(value) {
    for (const listener of [...this.listeners]) {
      listener(value);
    }
  }
  dispose() {
    this.listeners.clear();
  }
}

class CancellationTokenSource {
  constructor() {
    this.emitter = new EventEmitter();
    this.token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  }
  cancel() {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose() {}
}

class Uri {
  constructor(fsPath) {
    this.scheme = "file";
    this.fsPath = fsPath;
    this.path = fsPath;
  }
  static file(fsPath) {
    return new Uri(fsPath);
  }
  static parse(value) {
    return new Uri(String(value).replace(/^file:\/\//, ""));
  }
  toString() {
    return `file://${this.fsPath}`;
  }
}

/**
 * A fresh stand-in. `settings`: the `tensorlint` section; `pythonInterpreter`: the Python extension's selected
 * interpreter (undefined: the extension is not installed); `folder`: the workspace folder.
 */
function createStandIn({ settings = {}, pythonInterpreter, folder }) {
  const recorded = { errors: [], warnings: [], infos: [], executed: [], output: [] };
  // VS Code's view of the settings: every key the manifest declares, camelCase, null unless set
  const root = {
    tensorlint: {
      path: [], interpreter: [], trace: { server: "off" }, select: null, ignore: null, extendSelect: null,
      perFileIgnores: null, deployment: null, debounce: null, maxFileSizeKb: null, ...settings,
    },
  };
  const configurationListeners = new EventEmitter();
  const folderUri = folder ? Uri.file(folder) : undefined;
  const pythonExtension = pythonInterpreter === undefined ? undefined : {
    isActive: true,
    exports: {
      environments: {
        getActiveEnvironmentPath: () => ({ path: pythonInterpreter }),
        resolveEnvironment: async () => ({ executable: { uri: Uri.file(pythonInterpreter) } }),
        onDidChangeActiveEnvironmentPath: () => new Disposable(),
      },
    },
  };
  const show = (list) => (message, ...items) => {
    list.push({ message, items: items.filter((item) => typeof item === "string") });
    return Promise.resolve(undefined); // the user dismisses it
  };
  const outputChannel = {
    name: "tensorlint",
    append: (text) => recorded.output.push(String(text)),
    appendLine: (text) => recorded.output.push(`${text}\n`),
    replace: () => {},
    clear: () => {},
    show: () => {},
    hide: () => {},
    dispose: () => {},
  };
  const vscode = new Proxy({
    version: "1.90.0",
    Disposable,
    EventEmitter,
    CancellationTokenSource,
    CancellationError: class CancellationError extends Error {},
    CodeAction: class CodeAction {},
    Diagnostic: class Diagnostic {},
    Uri,
    ViewColumn: { Beside: -2 },
    ProgressLocation: { Notification: 15 },
    env: { appName: "stand-in", language: "en", openExternal: async () => true },
    extensions: { getExtension: (id) => (id === "ms-python.python" ? pythonExtension : undefined) },
    commands: {
      registerCommand: () => new Disposable(),
      executeCommand: async (...args) => recorded.executed.push(args),
    },
    window: new Proxy({
      createOutputChannel: () => outputChannel,
      showErrorMessage: show(recorded.errors),
      showWarningMessage: show(recorded.warnings),
      showInformationMessage: show(recorded.infos),
      activeTextEditor: undefined,
    }, { get: (target, property) => (property in target ? target[property] : inert(`window.${String(property)}`)) }),
    workspace: new Proxy({
      workspaceFolders: folderUri ? [{ uri: folderUri, name: "folder", index: 0 }] : undefined,
      getWorkspaceFolder: () => (folderUri ? { uri: folderUri, name: "folder", index: 0 } : undefined),
      getConfiguration: (section) => ({
        get: (key, fallback) => {
          const value = [...(section ? section.split(".") : []), ...key.split(".")]
            .reduce((scope, name) => (scope && typeof scope === "object" ? scope[name] : undefined), root);
          return value === undefined ? (fallback === undefined ? null : fallback) : value;
        },
        has: () => false,
        inspect: () => undefined,
        update: async () => {},
      }),
      onDidChangeConfiguration: configurationListeners.event,
      textDocuments: [],
      notebookDocuments: [],
    }, { get: (target, property) => (property in target ? target[property] : inert(`workspace.${String(property)}`)) }),
  }, { get: (target, property) => (property in target ? target[property] : inert(String(property))) });
  return { vscode, recorded };
}

module.exports = { createStandIn };
