import pandas as pd

from crmlens import export


def test_formula_cells_are_neutralised_and_others_kept():
    df = pd.DataFrame({"name": ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "Li Wei", None], "n": [1, 2, 3, 4, 5, 6]})
    out = export.neutralise_formulas(df)
    assert list(out["name"][:5]) == ["'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "Li Wei"]
    assert list(out["n"]) == [1, 2, 3, 4, 5, 6]  # numbers, negative ones too, stay numbers


def test_csv_has_a_bom_for_excel_and_keeps_chinese():
    data = export.to_csv_bytes(pd.DataFrame({"客户": ["王芳"]}))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == ["客户", "王芳"]
