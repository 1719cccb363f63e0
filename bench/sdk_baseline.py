"""The reference for `liveplan exec`: the least a Python program can do to stream one answer with the openai SDK.

    python bench/sdk_baseline.py BASE_URL "QUESTION"

No config, no tools, no session: it prints the streamed text and exits. bench/startup.py runs it beside
`liveplan exec` against the same local server, so the ratio shows what LivePlan adds.
"""

import sys

import openai


def main() -> None:
    base_url, question = sys.argv[1], sys.argv[2]
    client = openai.OpenAI(base_url=base_url, api_key="not-needed")
    stream = client.chat.completions.create(
        model="fake-model", messages=[{"role": "user", "content": question}], stream=True
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            sys.stdout.write(chunk.choices[0].delta.content)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
