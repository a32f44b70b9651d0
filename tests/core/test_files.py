"""The bounded reader (dlopt_core.data.files): regular files only, size caps, JSON depth, duplicate
keys, number range and the byte-order mark, every failure as the caller's own error."""

import json
import os

import pytest

from dlopt_core.data import files


class Problem(ValueError):
    pass


def parse(text):
    return files.parse_json(text, "t.json", Problem)


def test_plain_json_and_a_byte_order_mark():
    assert parse('{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    assert parse(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    assert parse('\ufeff{"a": 1}') == {"a": 1}


def test_a_repeated_key_is_named_with_its_object_and_place():
    with pytest.raises(Problem) as info:
        parse('{"data": {"seed": 1,\n "seed": 2}}')
    message = str(info.value)
    assert message.startswith("t.json: line 2, column 2 (data): key 'seed' is given twice")
    # the same key in two objects is fine, and escapes are decoded before comparing
    assert parse('{"a": {"k": 1}, "b": {"k": 2}}') == {"a": {"k": 1}, "b": {"k": 2}}
    with pytest.raises(Problem, match="given twice"):
        parse('{"k": 1, "\\u006b": 2}')
    assert files.parse_json('{"k": 1, "k": 2}', "t", Problem, object_pairs_hook=list) == [
        ("k", 1),
        ("k", 2),
    ]  # the caller's hook sees the repeat and reports it itself


@pytest.mark.parametrize("depth", [files.MAX_JSON_DEPTH + 1, 100_000])
def test_deep_nesting_is_refused_before_json_recurses(depth):
    with pytest.raises(Problem, match=f"nested more than {files.MAX_JSON_DEPTH} levels"):
        parse("[" * depth + "]" * depth)
    with pytest.raises(Problem, match="nested"):
        parse('{"a": ' * depth + "1" + "}" * depth)


def test_nesting_up_to_the_limit_loads():
    depth = files.MAX_JSON_DEPTH
    value = parse("[" * depth + "]" * depth)
    for _ in range(depth - 1):
        value = value[0]
    assert value == []


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("1e400", "beyond the range of a float"),
        ("-1E+999", "beyond the range of a float"),
        ("Infinity", "Infinity is not allowed"),
        ("-Infinity", "-Infinity is not allowed"),
        ("NaN", "NaN is not allowed"),
        ("9" * 5000, "an integer of 5000 digits"),
        ("-" + "1" * 21, "an integer of 21 digits"),
    ],
)
def test_numbers_out_of_range_are_refused_with_their_key(token, reason):
    with pytest.raises(Problem) as info:
        parse('{"data": {"seed": ' + token + "}}")
    assert "(data.seed)" in str(info.value) and reason in str(info.value)


def test_numbers_in_range_load():
    assert parse("[1e308, -1e-400, 12345678901234567890, 0.5]") == [
        1e308,
        -0.0,
        12345678901234567890,
        0.5,
    ]
    with pytest.raises(Problem) as info:
        parse("[1, 2, 1e999]")
    assert "([2])" in str(info.value)


def test_syntax_errors_keep_json_s_line_and_column():
    with pytest.raises(Problem, match=r"t.json: not valid JSON: .* line 2, column 3"):
        parse('{"a": 1,\n  }')
    with pytest.raises(Problem, match="not valid JSON"):
        parse('{"a": "unterminated')


def test_size_limit_for_text_and_files(tmp_path):
    with pytest.raises(Problem, match="the limit is 10 bytes"):
        files.parse_json("[" + "1," * 10 + "1]", "t", Problem, limit=10)
    path = tmp_path / "big.json"
    path.write_text("[" + " " * 100 + "]")
    with pytest.raises(Problem, match="the file is 102 bytes; the limit is 50 bytes"):
        files.load_json(path, Problem, limit=50)
    assert files.load_json(path, Problem) == []


def test_not_utf8_names_the_line():
    with pytest.raises(Problem, match="line 2: not a text file"):
        parse(b'{"a":\n "\xff"}')


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_devices_are_refused_without_reading(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    with pytest.raises(Problem, match="a character device, not a regular file"):
        files.read_bytes(device, 1000, Problem)


def test_folders_links_and_missing_files(tmp_path):
    with pytest.raises(Problem, match="folder"):
        files.read_bytes(tmp_path, 1000, Problem)
    with pytest.raises(Problem, match="no such file"):
        files.read_bytes(tmp_path / "missing", 1000, Problem)
    with pytest.raises(Problem, match="cannot be read"):
        files.read_bytes("nul\0byte", 1000, Problem)
    if os.path.exists("/dev/zero"):
        link = tmp_path / "data.json"
        link.symlink_to("/dev/zero")
        with pytest.raises(Problem, match="character device"):
            files.load_json(link, Problem)


def test_move_aside_keeps_the_damaged_file_and_leaves_devices_alone(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text("{damaged")
    moved = files.move_aside(path)
    assert moved == tmp_path / "progress.json.damaged" and moved.read_text() == "{damaged"
    assert not path.exists()
    assert files.move_aside(tmp_path) is None  # a folder is not moved
    assert files.move_aside(tmp_path / "missing") is None


def test_size_text():
    assert files.size_text(512) == "512 bytes"
    assert files.size_text(3 * 2**20) == "3 MB"
    assert files.size_text(21.5 * 2**30) == "21.5 GB"


def test_json_round_trip_of_what_the_app_writes():
    value = {"version": 1, "topics": {"a": {"right": 2, "wrong": 0}}, "sessions": []}
    assert parse(json.dumps(value, indent=1)) == value
