"""The official openai Python client against a running navil4j server: text, stream, image, logprobs, completions,
errors. Prints one PASS/FAIL line per check and exits non-zero on any failure.
Usage: python check.py BASE_URL API_KEY MODEL IMAGE_PATH"""
import base64
import sys

import openai

base, key, model, image = sys.argv[1:5]
client = openai.OpenAI(base_url=base, api_key=key, max_retries=0, timeout=120)
failed = 0
passed = 0


def check(name, fn):
    global failed, passed
    try:
        detail = fn()
        passed += 1
        print(f"PASS python {name}: {detail}")
    except Exception as e:  # report and go on: one line per check
        failed += 1
        print(f"FAIL python {name}: {type(e).__name__}: {e}")


def models():
    ids = [m.id for m in client.models.list()]
    assert model in ids, ids
    return ids


def text():
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello, who are you?"}], max_tokens=12)
    c = r.choices[0]
    assert isinstance(c.message.content, str) and c.finish_reason in ("stop", "length"), r
    assert r.usage.completion_tokens > 0 and r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, r.usage
    return f"{c.message.content!r} finish={c.finish_reason} usage={r.usage.prompt_tokens}+{r.usage.completion_tokens}"


def stream():
    parts, finish, usage = [], None, None
    for chunk in client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Count to five."}],
                                                max_tokens=12, stream=True, stream_options={"include_usage": True}):
        if chunk.usage:
            usage = chunk.usage
        for ch in chunk.choices:
            if ch.delta.content:
                parts.append(ch.delta.content)
            if ch.finish_reason:
                finish = ch.finish_reason
    assert finish in ("stop", "length") and usage is not None, (finish, usage)
    return f"{len(parts)} deltas {''.join(parts)!r} finish={finish} usage={usage.completion_tokens}"


def image_input():
    url = "data:image/png;base64," + base64.b64encode(open(image, "rb").read()).decode()
    r = client.chat.completions.create(model=model, max_tokens=8, messages=[{"role": "user", "content": [
        {"type": "text", "text": "What is in the image?"}, {"type": "image_url", "image_url": {"url": url}}]}])
    assert r.usage.prompt_tokens > 64, r.usage  # the image's tokens are in the prompt
    return f"{r.choices[0].message.content!r} prompt_tokens={r.usage.prompt_tokens}"


def logprobs():
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Say yes."}], max_tokens=4,
                                       logprobs=True, top_logprobs=3)
    content = r.choices[0].logprobs.content
    assert content and all(len(t.top_logprobs) == 3 and t.logprob <= 0 for t in content), content
    return f"{len(content)} tokens, first {content[0].token!r} {content[0].logprob:.3f} top {[(a.token, round(a.logprob, 3)) for a in content[0].top_logprobs]}"


def completion():
    r = client.completions.create(model=model, prompt="Once upon a time", max_tokens=8)
    assert isinstance(r.choices[0].text, str), r
    return f"{r.choices[0].text!r} finish={r.choices[0].finish_reason}"


def structured():
    # the SDK's structured-output helper: a pydantic model becomes a strict json_schema response_format, and the
    # answer is parsed back into it (it raises when the text does not validate)
    from pydantic import BaseModel

    class Flag(BaseModel):
        ok: bool

    r = client.chat.completions.parse(model=model, messages=[{"role": "user", "content": "Is the sky blue? Answer in JSON."}],
                                      response_format=Flag, max_tokens=16)
    parsed = r.choices[0].message.parsed
    assert isinstance(parsed, Flag), r
    return f"{r.choices[0].message.content!r} -> {parsed!r}"


def expect_error(cls, fn, code=None):
    try:
        fn()
    except cls as e:
        if code is not None:
            assert e.code == code, (e.code, e.body)
        return f"{cls.__name__} {e.status_code}: {e.message[:100]}"
    raise AssertionError(f"no {cls.__name__}")


check("models", models)
check("text", text)
check("stream", stream)
check("image", image_input)
check("logprobs", logprobs)
check("completions", completion)
check("structured output (parse, json_schema strict)", structured)
check("error wrong model", lambda: expect_error(openai.NotFoundError, lambda: client.chat.completions.create(
    model="gpt-4o", messages=[{"role": "user", "content": "hi"}]), "model_not_found"))
check("error bad temperature", lambda: expect_error(openai.BadRequestError, lambda: client.chat.completions.create(
    model=model, messages=[{"role": "user", "content": "hi"}], temperature=5)))
check("error unknown field", lambda: expect_error(openai.BadRequestError, lambda: client.chat.completions.create(
    model=model, messages=[{"role": "user", "content": "hi"}], extra_body={"bogus_field": 1})))
check("error bad image", lambda: expect_error(openai.BadRequestError, lambda: client.chat.completions.create(
    model=model, messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])))
check("error wrong key", lambda: expect_error(openai.AuthenticationError, lambda: openai.OpenAI(
    base_url=base, api_key="wrong", max_retries=0).chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}]),
    "invalid_api_key"))
print(f"python openai {openai.__version__}: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
