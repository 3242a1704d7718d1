"""Quizzes: exercises of kind `quiz`. `questions.py` (the YAML model, each student's variant),
`key.py` (answers computed in the child process), `answers.py` (reading and comparing answers),
`grading.py` (an answers file to a result), `interactive.py` (`grade quiz N`)."""
