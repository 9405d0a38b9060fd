"""Drives the llm example with the official Anthropic Python SDK and prints,
as one JSON object, what the SDK reports. Usage: anthropic_client.py
BASE_URL CASE (CASE: stream, events, whole, bad, early-close)."""

import json
import sys

import anthropic

base_url, case = sys.argv[1], sys.argv[2]
client = anthropic.Anthropic(base_url=base_url, api_key="unused", max_retries=0)
said = [{"role": "user", "content": [{"type": "text", "text": "one two"}, {"type": "text", "text": "three four"}]}]

if case == "stream":
    with client.messages.stream(model="echo", max_tokens=64, messages=said) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    print(json.dumps({
        "text": text,
        "final_text": final.content[0].text,
        "stop_reason": final.stop_reason,
        "role": final.role,
        "output_tokens": final.usage.output_tokens,
    }))
elif case == "events":
    events = client.messages.create(model="echo", max_tokens=64, messages=said, stream=True)
    print(json.dumps([event.type for event in events]))
elif case == "whole":
    message = client.messages.create(model="echo", max_tokens=64, messages=said)
    print(json.dumps({"text": message.content[0].text, "stop_reason": message.stop_reason}))
elif case == "bad":
    refused = []
    for name, kwargs in [
        ("max_tokens zero", {"model": "echo", "max_tokens": 0, "messages": said}),
        ("model empty", {"model": "", "max_tokens": 64, "messages": said}),
        ("messages empty", {"model": "echo", "max_tokens": 64, "messages": []}),
        ("no words", {"model": "echo", "max_tokens": 64, "messages": [{"role": "user", "content": " "}]}),
    ]:
        try:
            client.messages.create(stream=True, **kwargs)
            refused.append({"case": name, "refused": False})
        except anthropic.BadRequestError as err:
            refused.append({"case": name, "status": err.status_code, "type": err.body["error"]["type"],
                            "message": err.body["error"]["message"]})
    print(json.dumps(refused))
elif case == "early-close":
    words = " ".join(str(n) for n in range(100))
    events = client.messages.create(model="echo", max_tokens=64, stream=True,
                                    messages=[{"role": "user", "content": words}])
    got = []
    for event in events:
        if event.type == "content_block_delta":
            got.append(event.delta.text)
            if len(got) == 3:
                break
    events.close()
    print(json.dumps({"got": got}))
else:
    sys.exit(f"unknown case {case}")
