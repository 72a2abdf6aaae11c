"""Finding and reading licence plates on camera frames (kentekenherkenning).

Public entry points (see ``docs/lpr.md``):

* :func:`scancar.lpr.fastplate.load_plate_reader` -> ``FastPlateReader`` (the OCR adapter);
* :class:`scancar.lpr.recognizer.PlateRecognizer` -> ``recognise(frame) -> list[PlateRead]``;
* :class:`scancar.lpr.tracking.PassTracker` -> ``update(frame, reads)`` / ``flush()`` ->
  ``list[VehiclePass]``;
* :func:`scancar.lpr.stream.recognise_stream` to run decoding and candidate search one frame
  ahead on the second core.
"""
