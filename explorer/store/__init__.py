"""What is kept on disk and brought in from elsewhere: checkpoints (``checkpoint``, with the
atomic folder replace a save ends with in ``folder_swap``), the models a user can open
(``catalog``, ``paths``), code tables and exports (``io``, ``codes_import``), and models made
elsewhere (``byo`` for PyTorch modules, ``onnx_io`` for ONNX files)."""
