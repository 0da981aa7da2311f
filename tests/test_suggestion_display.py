"""How a classifier suggestion is shown: cancelling words plainly."""






def test_keywords_show_cancelling_words_plainly():
    from yuqing.db.classifying import keyword_text

    assert keyword_text(["爆炸", "!演练"]) == "爆炸、演练（抵消）"
    assert keyword_text([]) == "无"
