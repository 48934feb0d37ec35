import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pgArrayLiteral } from '../../db/pgArrayLiteral';

test('quotes every element and escapes backslashes and double quotes', () => {
  assert.equal(pgArrayLiteral([]), '{}');
  assert.equal(pgArrayLiteral(['a', '']), '{"a",""}');
  assert.equal(pgArrayLiteral(['NULL', 'a,b', '{x}', ' sp ']), '{"NULL","a,b","{x}"," sp "}');
  assert.equal(pgArrayLiteral(['q"uote', 'back\\slash', '\\"']), '{"q\\"uote","back\\\\slash","\\\\\\""}');
});

test('null becomes an unquoted NULL element, the string NULL stays a string', () => {
  assert.equal(pgArrayLiteral([null, 'NULL', null]), '{NULL,"NULL",NULL}');
});
