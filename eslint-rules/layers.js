// The project's own ESLint plugin `qataseg`: the layers of docs/ARCHITECTURE.md as lint rules.
//
// - `qataseg/layers`: a file imports only its own room or the rooms its room may import (the map
//   is the rule's option, written once in eslint.config.js).
// - `qataseg/no-import-cycle`: no file imports, directly or through others, a file that imports it.
// Type-only imports count for both: a type cycle still ties the rooms together.
import fs from 'node:fs';
import path from 'node:path';

const EXTENSIONS = ['.ts', '.tsx', '.mts'];
const INDEXES = ['index.ts', 'index.tsx'];

/** Module specifiers of every import, re-export, `import()` and `import('x').T` in an AST. */
function importNodes(context, visit) {
  const fromSource = (node) => {
    if (node.source && typeof node.source.value === 'string') visit(node.source.value, node);
  };
  return {
    ImportDeclaration: fromSource,
    ExportNamedDeclaration: fromSource,
    ExportAllDeclaration: fromSource,
    ImportExpression(node) {
      if (node.source.type === 'Literal' && typeof node.source.value === 'string')
        visit(node.source.value, node);
    },
    TSImportType(node) {
      // typescript-eslint 8 names the string `source` (older versions: `argument.literal`).
      const argument = 'source' in node ? node.source : node.argument;
      const value = argument?.literal?.value ?? argument?.value;
      if (typeof value === 'string') visit(value, node);
    },
  };
}

/** The file a relative specifier names (TypeScript's lookup: .ts/.tsx, then index), or null. */
function resolveFile(fromFile, specifier) {
  if (!specifier.startsWith('.')) return null;
  const base = path.resolve(path.dirname(fromFile), specifier.replace(/\.(m?js|jsx)$/, ''));
  const candidates = [
    base,
    ...EXTENSIONS.map((extension) => base + extension),
    ...INDEXES.map((index) => path.join(base, index)),
  ];
  return (
    candidates.find((candidate) => {
      try {
        return fs.statSync(candidate).isFile();
      } catch {
        return false;
      }
    }) ?? null
  );
}

// ---------------------------------------------------------------------------------------------
// qataseg/layers

/** Path below the root with '/' separators and no TypeScript extension, e.g. 'core/ml/unet'. */
function roomPath(root, file) {
  return path
    .relative(root, file)
    .split(path.sep)
    .join('/')
    .replace(/\.(m?tsx?|m?js)$/, '');
}

/** The room whose (longest) prefix holds the path, or null for a file of no room. */
function roomOf(rooms, relative) {
  let best = null;
  for (const [name, room] of Object.entries(rooms)) {
    for (const prefix of room.files) {
      const matches = relative === prefix || relative.startsWith(`${prefix}/`);
      if (matches && (!best || prefix.length > best.prefix.length)) best = { name, prefix };
    }
  }
  return best?.name ?? null;
}

const layers = {
  meta: {
    type: 'problem',
    docs: { description: 'A room imports only the rooms below it (docs/ARCHITECTURE.md: layers).' },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          rooms: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              properties: {
                files: { type: 'array', items: { type: 'string' } },
                mayImport: { type: 'array', items: { type: 'string' } },
              },
              required: ['files', 'mayImport'],
              additionalProperties: false,
            },
          },
        },
        required: ['root', 'rooms'],
        additionalProperties: false,
      },
    ],
    messages: {
      upward:
        "{{from}} may not import {{to}} ('{{specifier}}'): {{from}} imports only {{allowed}}. Move what both need down a layer, or pass it in as data (docs/ARCHITECTURE.md: layers).",
    },
  },
  create(context) {
    const { root: rootOption, rooms } = context.options[0];
    const root = path.resolve(context.cwd, rootOption);
    const file = context.filename;
    const from = roomOf(rooms, roomPath(root, file));
    if (!from) return {};
    const allowed = rooms[from].mayImport;
    return importNodes(context, (specifier, node) => {
      if (!specifier.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), specifier);
      const relative = roomPath(root, target);
      if (relative.startsWith('..')) return;
      const to = roomOf(rooms, relative);
      if (!to || to === from || allowed.includes(to)) return;
      context.report({
        node,
        messageId: 'upward',
        data: {
          from,
          to,
          specifier,
          allowed: allowed.length > 0 ? allowed.join(', ') : 'nothing outside itself',
        },
      });
    });
  },
};

// ---------------------------------------------------------------------------------------------
// qataseg/no-import-cycle

const IMPORT_PATTERN =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Imports of files other than the one being linted, read from disk (cached by mtime). */
const dependencyCache = new Map();

function dependenciesOnDisk(file) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return [];
  }
  const cached = dependencyCache.get(file);
  if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.deps;
  const text = fs.readFileSync(file, 'utf8');
  const deps = [
    ...new Set(
      [...text.matchAll(IMPORT_PATTERN)]
        .map((match) => resolveFile(file, match[1] ?? match[2]))
        .filter((target) => target !== null),
    ),
  ];
  dependencyCache.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, deps });
  return deps;
}

/** A path of imports from `start` back to `goal` inside `root`, or null. */
function pathBack(start, goal, root) {
  const inside = (file) => !path.relative(root, file).startsWith('..');
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift();
    for (const next of dependenciesOnDisk(file)) {
      if (!inside(next)) continue;
      if (next === goal) {
        const chain = [next];
        for (let at = file; at !== null; at = previous.get(at)) chain.push(at);
        return chain.reverse();
      }
      if (!previous.has(next)) {
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return null;
}

const noImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'No import cycles, type-only imports included.' },
    schema: [
      {
        type: 'object',
        properties: { root: { type: 'string' } },
        required: ['root'],
        additionalProperties: false,
      },
    ],
    messages: {
      cycle:
        "'{{specifier}}' closes an import cycle: {{chain}}. Move what both need to a lower file (type-only imports count).",
    },
  },
  create(context) {
    const root = path.resolve(context.cwd, context.options[0].root);
    const file = context.filename;
    const name = (target) => path.relative(root, target).split(path.sep).join('/');
    return importNodes(context, (specifier, node) => {
      const target = resolveFile(file, specifier);
      if (!target || path.relative(root, target).startsWith('..')) return;
      const back = target === file ? [file] : pathBack(target, file, root);
      if (!back) return;
      context.report({
        node,
        messageId: 'cycle',
        data: { specifier, chain: [file, ...back].map(name).join(' -> ') },
      });
    });
  },
};

export default {
  meta: { name: 'qataseg' },
  rules: { layers, 'no-import-cycle': noImportCycle },
};
