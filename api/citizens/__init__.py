"""Citizens and places: the two things every case hangs off, and whose history advocates see."""
