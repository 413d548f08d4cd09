// LangChain JS (@langchain/openai ChatOpenAI) against a running navil4j server: invoke, stream, an image, and
// withStructuredOutput with a zod schema (LangChain sends it as a strict json_schema response_format; the issue's
// original failure). One PASS/FAIL line per check, non-zero exit on any failure.
// Usage: node langchain.mjs BASE_URL API_KEY MODEL IMAGE_PATH
import { ChatOpenAI } from '@langchain/openai';
import { HumanMessage } from '@langchain/core/messages';
import { z } from 'zod';
import { readFileSync } from 'node:fs';

const [base, key, model, image] = process.argv.slice(2);
const llm = new ChatOpenAI({ model, apiKey: key, configuration: { baseURL: base }, maxRetries: 0, maxTokens: 16, temperature: 0 });
let failed = 0, passed = 0;
const assert = (ok, what) => { if (!ok) throw new Error('assertion failed: ' + JSON.stringify(what)); };

async function check(name, fn) {
  try {
    console.log(`PASS langchain-js ${name}: ${await fn()}`);
    passed++;
  } catch (e) {
    failed++;
    console.log(`FAIL langchain-js ${name}: ${e?.constructor?.name}: ${e?.message}`);
  }
}

await check('invoke', async () => {
  const r = await llm.invoke('Say hello.');
  assert(typeof r.content === 'string' && r.content.length > 0, r.content);
  assert(r.response_metadata?.finish_reason, r.response_metadata);
  return JSON.stringify(r.content.slice(0, 40));
});

await check('stream', async () => {
  let text = '', chunks = 0;
  for await (const c of await llm.stream('Count.')) { text += c.content; chunks++; }
  assert(chunks > 1 && text.length > 0, [chunks, text]);
  return `${chunks} chunks`;
});

await check('image', async () => {
  const url = 'data:image/png;base64,' + readFileSync(image).toString('base64');
  const r = await llm.invoke([new HumanMessage({ content: [
    { type: 'text', text: 'Describe the image.' }, { type: 'image_url', image_url: { url } }] })]);
  assert(r.usage_metadata?.input_tokens > 20, r.usage_metadata); // the image's tokens are part of the prompt
  return `input_tokens=${r.usage_metadata.input_tokens}`;
});

await check('withStructuredOutput(zod)', async () => {
  const Flag = z.object({ ok: z.boolean() });
  const structured = new ChatOpenAI({ model, apiKey: key, configuration: { baseURL: base }, maxRetries: 0, maxTokens: 48, temperature: 0 })
    .withStructuredOutput(Flag, { name: 'Flag', method: 'jsonSchema', strict: true });
  const r = await structured.invoke('Is the sky blue? Answer as JSON.');
  Flag.parse(r); // throws unless the answer validates
  return JSON.stringify(r);
});

await check('withStructuredOutput(jsonMode)', async () => {
  // json_object guarantees syntax, not keys: check the raw text parses as a JSON object whenever it finished
  const wide = new ChatOpenAI({ model, apiKey: key, configuration: { baseURL: base }, maxRetries: 0, maxTokens: 64, temperature: 0 });
  const r = await wide.withStructuredOutput(z.object({}).passthrough(), { method: 'jsonMode', includeRaw: true })
    .invoke('Answer in JSON with a key "ok".');
  const finish = r.raw.response_metadata?.finish_reason;
  if (finish === 'length') return 'cut at max_tokens (no complete object to parse): ' + JSON.stringify(String(r.raw.content).slice(0, 40));
  const parsed = JSON.parse(r.raw.content);
  assert(parsed && typeof parsed === 'object' && !Array.isArray(parsed), r.raw.content);
  return 'finish=' + finish + ' ' + JSON.stringify(parsed).slice(0, 60);
});

await check('wrong model → 404', async () => {
  const bad = new ChatOpenAI({ model: 'no-such-model', apiKey: key, configuration: { baseURL: base }, maxRetries: 0 });
  try { await bad.invoke('hi'); } catch (e) { assert(e.status === 404 || String(e.message).includes('404'), e.message); return String(e.message).slice(0, 80); }
  throw new Error('no error');
});

console.log(`langchain-js: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
