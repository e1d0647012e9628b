"""What a person sees drawn: the latent map and its overlays (``plots``), figures of numbers
beside it (``charts``), a map's points as one picture for maps that must open fast
(``raster``), images, sprites and GIFs (``render``), and the programs the page runs to decode
and invert the map under the pointer itself (``live``, ``live_map``)."""
