"""The public's front door: members of the public raise concerns about adults and children online."""
