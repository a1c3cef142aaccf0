/**
 * The package's entry points as declared: the main entry exports at most 40 names, each
 * of them documented, and the Fastify and Koa entries export the same helpers under the
 * same names.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import ts from 'typescript'
import { fileURLToPath } from 'node:url'
import * as main from '../../src/index.ts'
import * as fastify from '../../src/hosts/fastify.ts'
import * as koa from '../../src/hosts/koa.ts'

/** Every name an entry exports, values and types, with whether its declaration has a doc comment. */
function exportedNames(entry: string): Map<string, boolean> {
  const file = fileURLToPath(new URL(`../../src/${entry}`, import.meta.url))
  const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, allowImportingTsExtensions: true, noEmit: true })
  const checker = program.getTypeChecker()
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(file)!)!
  const names = new Map<string, boolean>()
  for (const exported of checker.getExportsOfModule(symbol)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
    names.set(exported.name, (target.declarations ?? []).some((declaration) => ts.getJSDocCommentsAndTags(declaration).length > 0))
  }
  return names
}

describe('the entry points', () => {
  test('passport-justpass exports at most 40 names, every one of them documented', () => {
    const names = exportedNames('index.ts')
    assert.ok(names.size <= 40, `${names.size} names: ${[...names.keys()].join(', ')}`)
    assert.deepEqual([...names].filter(([, documented]) => !documented).map(([name]) => name), [])
    for (const value of Object.keys(main)) assert.ok(names.has(value), value)
    assert.ok(!('justpassSetup' in main), 'the Fastify and Koa helpers stay in their own entries')
    for (const helper of ['justpassStart', 'justpassCallback', 'requireJustpassConfirmation', 'justpassLogout', 'takeJustpassNotice']) assert.equal(typeof (main as Record<string, unknown>)[helper], 'function', `Express has ${helper} too`)
  })

  test('passport-justpass/fastify and passport-justpass/koa: the same helpers, the same names, every export documented', () => {
    const helpers = ['justpassCallback', 'justpassLogout', 'justpassSetup', 'justpassStart', 'requireJustpassConfirmation', 'takeJustpassNotice']
    assert.deepEqual(Object.keys(fastify).sort(), helpers)
    assert.deepEqual(Object.keys(koa).sort(), helpers)
    assert.equal(fastify.takeJustpassNotice, main.takeJustpassNotice, 'one notice reader')
    for (const entry of ['hosts/fastify.ts', 'hosts/koa.ts']) {
      assert.deepEqual([...exportedNames(entry)].filter(([, documented]) => !documented).map(([name]) => name), [], entry)
    }
  })
})
