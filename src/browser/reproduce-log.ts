/**
 * The step log of the browser reproduction: an Int32Array over its own SharedArrayBuffer.
 *
 *   [0]                 entries appended so far (Atomics.add by the task that appends)
 *   [1 + i × 9 + 0]     task (0: Task 1, 1: Task 2)
 *           + 1         race point (RacePoint code)
 *           + 2         bucket the step is about (-1: none yet)
 *           + 3         operation id (low 31 bits)
 *           + 4         contested bucket's state on arrival (index into BUCKET_STATES)
 *           + 5         open-bucket slots holding the contested bucket (2 = allocated twice)
 *           + 6         its dirty sectors
 *           + 7         1 if an open slot holding it carries the oracle's duplicate verdict: it was
 *                       opened while in truth not free (another allocation's data is in it)
 *           + 8         1 once the entry is complete
 */
export const LOG_HEADER = 1;
export const LOG_WORDS = 9;
