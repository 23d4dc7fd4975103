"""Classifiers: quality and domain models, trained here, scored over the corpus.

stage_spark.py      the classify stage's driver: scores, per-language cut-offs, commit
scoring.py          the executors: every configured model over an Arrow batch
model_files.py      one on-disk layout for every backend (model.json beside the backend's files)
fasttext_backend.py sklearn_backend.py   the two backends (no pickles)
normalize.py        the one text normalisation seen at training and at inference
training.py         the training recipes: split, train, evaluate, save, model card
training_data.py    labelled sets: labelled files, reference vs crawl, or a teacher's scores
metrics.py          held-out metrics
"""
