// The official openai Node client against a running navil4j server: text, stream, image, logprobs, completions,
// errors. Prints one PASS/FAIL line per check and exits non-zero on any failure.
// Usage: node check.mjs BASE_URL API_KEY MODEL IMAGE_PATH
import OpenAI from 'openai';
import { readFileSync } from 'node:fs';

const [base, key, model, image] = process.argv.slice(2);
const client = new OpenAI({ baseURL: base, apiKey: key, maxRetries: 0, timeout: 120_000 });
let failed = 0, passed = 0;
const assert = (ok, what) => { if (!ok) throw new Error('assertion failed: ' + JSON.stringify(what)); };

async function check(name, fn) {
  try {
    console.log(`PASS node ${name}: ${await fn()}`);
    passed++;
  } catch (e) {
    failed++;
    console.log(`FAIL node ${name}: ${e?.constructor?.name}: ${e?.message}`);
  }
}

async function expectError(cls, fn, code) {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof cls)) throw e;
    if (code !== undefined) assert(e.code === code, [e.code, e.error]);
    return `${cls.name} ${e.status}: ${String(e.message).slice(0, 100)}`;
  }
  throw new Error('no ' + cls.name);
}

const user = (content) => [{ role: 'user', content }];

await check('models', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert(ids.includes(model), ids);
  return ids.join(',');
});
await check('text', async () => {
  const r = await client.chat.completions.create({ model, messages: user('Hello, who are you?'), max_tokens: 12 });
  const c = r.choices[0];
  assert(typeof c.message.content === 'string' && ['stop', 'length'].includes(c.finish_reason), r);
  assert(r.usage.total_tokens === r.usage.prompt_tokens + r.usage.completion_tokens, r.usage);
  return `${JSON.stringify(c.message.content)} finish=${c.finish_reason} usage=${r.usage.prompt_tokens}+${r.usage.completion_tokens}`;
});
await check('stream', async () => {
  const s = await client.chat.completions.create({ model, messages: user('Count to five.'), max_tokens: 12, stream: true,
    stream_options: { include_usage: true } });
  let text = '', deltas = 0, finish = null, usage = null;
  for await (const chunk of s) {
    if (chunk.usage) usage = chunk.usage;
    for (const ch of chunk.choices) {
      if (ch.delta?.content) { text += ch.delta.content; deltas++; }
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert(['stop', 'length'].includes(finish) && usage, [finish, usage]);
  return `${deltas} deltas ${JSON.stringify(text)} finish=${finish} usage=${usage.completion_tokens}`;
});
await check('image', async () => {
  const url = 'data:image/png;base64,' + readFileSync(image).toString('base64');
  const r = await client.chat.completions.create({ model, max_tokens: 8, messages: user([
    { type: 'text', text: 'What is in the image?' }, { type: 'image_url', image_url: { url } }]) });
  assert(r.usage.prompt_tokens > 64, r.usage);
  return `${JSON.stringify(r.choices[0].message.content)} prompt_tokens=${r.usage.prompt_tokens}`;
});
await check('logprobs', async () => {
  const r = await client.chat.completions.create({ model, messages: user('Say yes.'), max_tokens: 4, logprobs: true, top_logprobs: 3 });
  const content = r.choices[0].logprobs.content;
  assert(content.length > 0 && content.every((t) => t.top_logprobs.length === 3 && t.logprob <= 0), content);
  return `${content.length} tokens, first ${JSON.stringify(content[0].token)} ${content[0].logprob.toFixed(3)}`;
});
await check('completions', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 8 });
  assert(typeof r.choices[0].text === 'string', r);
  return `${JSON.stringify(r.choices[0].text)} finish=${r.choices[0].finish_reason}`;
});
await check('structured output (json_schema strict)', async () => {
  const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'], additionalProperties: false };
  const r = await client.chat.completions.create({ model, messages: user('Is the sky blue? Answer in JSON.'), max_tokens: 16,
    response_format: { type: 'json_schema', json_schema: { name: 'flag', strict: true, schema } } });
  const v = JSON.parse(r.choices[0].message.content);
  assert(typeof v.ok === 'boolean' && Object.keys(v).length === 1, v);
  return `${JSON.stringify(r.choices[0].message.content)} -> ${JSON.stringify(v)}`;
});
await check('error wrong model', () => expectError(OpenAI.NotFoundError,
  () => client.chat.completions.create({ model: 'gpt-4o', messages: user('hi') }), 'model_not_found'));
await check('error bad temperature', () => expectError(OpenAI.BadRequestError,
  () => client.chat.completions.create({ model, messages: user('hi'), temperature: 5 })));
await check('error unknown field', () => expectError(OpenAI.BadRequestError,
  () => client.chat.completions.create({ model, messages: user('hi'), bogus_field: 1 })));
await check('error bad image', () => expectError(OpenAI.BadRequestError,
  () => client.chat.completions.create({ model, messages: user([{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }]) })));
await check('error wrong key', () => expectError(OpenAI.AuthenticationError,
  () => new OpenAI({ baseURL: base, apiKey: 'wrong', maxRetries: 0 }).chat.completions.create({ model, messages: user('hi') }),
  'invalid_api_key'));
const version = JSON.parse(readFileSync(new URL('./node_modules/openai/package.json', import.meta.url))).version;
console.log(`node openai ${version}: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
