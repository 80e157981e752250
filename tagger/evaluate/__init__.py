"""`tagger eval`: score a model/prompt on a gold set, compare two of them, gate regressions.

gold.py loads the labelled set; metrics.py is a pure scorer (with config/faithfulness.py);
predict.py runs (or re-reads) predictions through the normal run (tagger.run) and cache;
score.py turns gold + predictions into a report (models.py); compare.py and gate.py set two
results side by side; tables.py and report.py render it for the terminal, Markdown, HTML and
JSON; session.py ties one eval together.
"""
