/**
 * Round trip of the shared vectors (`types/vectors.json`) through the types
 * generated from the Rust sample types (`types/topics.gen.ts`): what the
 * compiler accepts as the generated type, Rust accepts and writes back
 * unchanged (tests/typescript.rs), and what it refuses, Rust refuses.
 */
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { beforeAll, describe, expect, it } from 'vitest'

const dir = resolve(dirname(fileURLToPath(import.meta.url)), 'types')
const raw = readFileSync(join(dir, 'vectors.json'), 'utf8')
interface Vector {
  type: string
  data: unknown
}
const vectors = JSON.parse(raw) as { accepted: Vector[]; rejected: Vector[] }

/**
 * Compiles one `const` per vector, typed as the generated type, in the
 * type-test project; returns the vectors whose line has an error.
 */
function failing(list: Vector[]): Set<number> {
  const configPath = join(dir, 'tsconfig.json')
  const { config } = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p))
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, dirname(configPath))
  const file = join(dir, '__vectors.ts')
  const source = [
    // The binding must be in the program for the generated augmentation to apply.
    "import type * as G from './topics.gen'; import type { Topics } from 'tauri-plugin-state-sync-api'; export type All = Topics",
    ...list.map((v, i) => `export const v${i}: G.${v.type} = ${JSON.stringify(v.data)}`),
  ].join('\n')
  const host = ts.createCompilerHost(options)
  const { getSourceFile, fileExists, readFile } = host
  host.getSourceFile = (name, ...rest) =>
    name === file ? ts.createSourceFile(name, source, ts.ScriptTarget.ES2022) : getSourceFile.call(host, name, ...rest)
  host.fileExists = (name) => name === file || fileExists.call(host, name)
  host.readFile = (name) => (name === file ? source : readFile.call(host, name))
  const program = ts.createProgram([file], options, host)
  const lines = new Set<number>()
  for (const d of ts.getPreEmitDiagnostics(program)) {
    expect(d.file?.fileName, ts.flattenDiagnosticMessageText(d.messageText, '\n')).toBe(file)
    lines.add(d.file!.getLineAndCharacterOfPosition(d.start!).line - 1)
  }
  return lines
}

describe('generated types on the shared vectors', () => {
  // One program for all vectors: the accepted ones first, then the rejected.
  const all = [...vectors.accepted, ...vectors.rejected]
  let refused: Set<number>
  beforeAll(() => {
    refused = failing(all)
  }, 60_000)

  it('compile every vector that Rust accepts and writes back unchanged', () => {
    expect(vectors.accepted.filter((_, i) => refused.has(i))).toEqual([])
  })

  it('refuse to compile every vector that Rust refuses', () => {
    const offset = vectors.accepted.length
    expect(vectors.rejected.filter((_, i) => !refused.has(offset + i))).toEqual([])
  })

  it('type a u64 as number: JSON.parse rounds one above 2^53, so such values must travel as strings', () => {
    expect(raw).toContain('"followers": 9007199254740993')
    const profiles = vectors.accepted.filter((v) => v.type === 'Profile').map((v) => v.data as { followers: number })
    const big = profiles.find((p) => p.followers > Number.MAX_SAFE_INTEGER)
    expect(big?.followers).toBe(9007199254740992)
  })
})
