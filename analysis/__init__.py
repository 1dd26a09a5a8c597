"""EmbedLens engine: storage, encoders and analyses, free of any UI code."""
