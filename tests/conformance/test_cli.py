from ember.cli import main


def test_conformance_command_writes_the_table(tmp_path, capsys):
    out = tmp_path / "c.md"
    assert main(["conformance", "--ops", "nn.functional.relu6,isnan", "--dtypes",
                 "float32,int64", "--out", str(out), "--no-errors"]) == 0
    text = out.read_text()
    assert "| float32 | 2 | 2 | 0 | 0 | 0 | 0 | 0 | 2/2 |" in text
    assert "| `isnan` | int64 | native | 1/1 |" in text
    assert "ember conformance --ops" in text
    assert "float32: native 2" in capsys.readouterr().out
