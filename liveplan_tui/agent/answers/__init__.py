"""A small model's answer made into checked work: what language the task asks for, which blocks go to which files
the task names, the check that fits the answer's language, and the run of that check.

`kinds`, `blocks`, `checks` and `configs` are pure; `running` is the one tool that runs an answer's code, and
`flow` drives a check and its repairs, and the writes, through a turn's approval gate.
"""
