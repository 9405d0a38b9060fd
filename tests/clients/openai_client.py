"""Drives the llm example with the official OpenAI Python SDK and prints, as
one JSON object, what the SDK reports. Usage: openai_client.py BASE_URL CASE
(CASE: stream, whole, bad, early-close)."""

import json
import sys

import openai

base_url, case = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)
said = [{"role": "system", "content": "ignored"}, {"role": "user", "content": "one two three four"}]

if case == "stream":
    chunks = list(client.chat.completions.create(model="echo", messages=said, stream=True))
    print(json.dumps({
        "text": "".join(c.choices[0].delta.content or "" for c in chunks),
        "roles": [c.choices[0].delta.role for c in chunks if c.choices[0].delta.role],
        "finish_reasons": [c.choices[0].finish_reason for c in chunks],
        "ids": sorted({c.id for c in chunks}),
        "objects": sorted({c.object for c in chunks}),
        "models": sorted({c.model for c in chunks}),
    }))
elif case == "whole":
    completion = client.chat.completions.create(model="echo", messages=said)
    print(json.dumps({
        "object": completion.object,
        "text": completion.choices[0].message.content,
        "role": completion.choices[0].message.role,
        "finish_reason": completion.choices[0].finish_reason,
    }))
elif case == "bad":
    refused = []
    for name, kwargs in [
        ("model empty", {"model": "", "messages": said}),
        ("messages empty", {"model": "echo", "messages": []}),
        ("no user message", {"model": "echo", "messages": [{"role": "system", "content": "hi"}]}),
        ("no words", {"model": "echo", "messages": [{"role": "user", "content": "   "}]}),
        ("stream not a boolean", {"model": "echo", "messages": said, "extra_body": {"stream": "yes"}}),
    ]:
        try:
            client.chat.completions.create(stream=True, **kwargs) if name != "stream not a boolean" \
                else client.chat.completions.create(**kwargs)
            refused.append({"case": name, "refused": False})
        except openai.BadRequestError as err:
            refused.append({"case": name, "status": err.status_code, "type": err.type, "param": err.param,
                            "message": err.message})
    print(json.dumps(refused))
elif case == "early-close":
    stream = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": " ".join(str(n) for n in range(100))}], stream=True)
    got = [next(stream).choices[0].delta.content for _ in range(3)]
    stream.close()
    print(json.dumps({"got": got}))
else:
    sys.exit(f"unknown case {case}")
