// What the page records on window for the browser tests and bench/ (times in ms from performance.now()).
interface Window {
  /** When the last flame graph was drawn. */
  profefeRendered?: number;
  /** When the profile page's data arrived, and how long it took. */
  profefeDataAt?: number;
  profefeFetchMs?: number;
  /** Frames whose callees are being fetched, and how many were fetched and spliced in. */
  profefeExpanding?: number;
  profefeExpanded?: number;
}
