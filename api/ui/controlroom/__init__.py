"""Control room (meldkamer): the live map of cars and hits. Built in #18."""
