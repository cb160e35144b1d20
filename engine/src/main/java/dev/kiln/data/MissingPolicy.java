package dev.kiln.data;

/** What to do with an empty (or NA, NaN, ?, null) cell in a column the model uses. */
public enum MissingPolicy {
    /** Drop every row with a missing value in a used column. */
    DROP_ROWS,
    /**
     * Fill a missing feature with the training mean (numeric) or most frequent category
     * (categorical); rows whose target is missing are dropped, since an invented target would be trained on.
     */
    IMPUTE_MEAN,
    /** Throw, naming the file, the 1-based line and the column of the first missing value. */
    FAIL
}
