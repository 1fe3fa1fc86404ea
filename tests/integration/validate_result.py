#!/usr/bin/python3
"""Validates TrackIQ result documents against the JSON Schema.

Usage: validate_result.py SCHEMA FILE...

Prints "FILE: $.path.to.field: message" for every error (all of them, sorted by path).
Exit status: 0 when every FILE is valid, 1 when any is invalid, 2 on a usage or I/O error
(an unreadable or non-JSON file, or an invalid schema; the other files are still checked).
Needs `jsonschema` >= 4.0 for Draft 2020-12 (Debian: python3-jsonschema); run it with
/usr/bin/python3.
"""
import json
import sys

try:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError, best_match
except ImportError as e:  # pragma: no cover - environment problem
    sys.stderr.write(f"validate_result.py: needs jsonschema >= 4 (apt install python3-jsonschema): {e}\n")
    sys.exit(2)


def reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")  # Python's json would accept NaN/Infinity


def load_json(path):
    """Returns the parsed file, or raises OSError / ValueError with a readable message."""
    with open(path, encoding="utf-8") as f:
        return json.load(f, parse_constant=reject_constant)


def field_path(error):
    """`$.a.b[3].c` style path of the failing instance ("$" for the document itself)."""
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def sort_key(error):
    # Sort by path (ints and strings kept apart so mixed paths compare), then message.
    return ([(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in error.absolute_path], error.message)


MAX_MESSAGE = 400  # jsonschema quotes the whole offending value (a histogram encoding can be kilobytes)


def message(error):
    msg = error.message
    if "propertyNames" in error.relative_schema_path:
        msg = "property name " + msg  # the path names the object; the message names the bad key
    if len(msg) > MAX_MESSAGE:
        msg = msg[: MAX_MESSAGE - 40] + f"... ({len(msg)} chars)" + msg[-30:]
    if error.context:  # anyOf/oneOf: say which alternative came closest, and why it failed
        inner = best_match(error.context)
        if inner is not None:
            msg += f" (closest: {field_path(inner)}: {inner.message})"
    return msg


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: validate_result.py SCHEMA FILE...\n")
        return 2
    schema_path, files = argv[1], argv[2:]
    try:
        schema = load_json(schema_path)
        Draft202012Validator.check_schema(schema)
    except (OSError, ValueError) as e:
        sys.stderr.write(f"{schema_path}: cannot read schema: {e}\n")
        return 2
    except SchemaError as e:
        sys.stderr.write(f"{schema_path}: invalid JSON Schema: {e.message}\n")
        return 2
    validator = Draft202012Validator(schema)

    invalid = unreadable = False
    for path in files:
        try:
            doc = load_json(path)
        except (OSError, ValueError) as e:
            sys.stderr.write(f"{path}: cannot read: {e}\n")
            unreadable = True
            continue
        errors = sorted(validator.iter_errors(doc), key=sort_key)
        for error in errors:
            print(f"{path}: {field_path(error)}: {message(error)}")
        invalid = invalid or bool(errors)
    return 2 if unreadable else 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
