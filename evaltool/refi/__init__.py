"""REFI-QDA exchange: projects (``.qdpx``) and codebooks (``.qdc``) with other QDA tools.

``schema`` holds the standard's namespaces, constants and the validation against its
XML schemas; ``write`` writes evaltool's project and codebook; ``read`` reads them back
(from evaltool or from NVivo, ATLAS.ti, MAXQDA, QualCoder, Taguette ...).
The mapping both sides keep is described in the README's "REFI-QDA" section.
"""
