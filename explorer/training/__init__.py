"""Training: the loop and each family's step (``train``), the loss history it records
(``history``), the codes of a fixed subset it records per epoch (``timeline``), and long work
on a thread with progress and Stop (``jobs``), which every page that trains or fits runs on."""
