// View routing through the query string (?view=data), so a reload keeps the view and the URL hash
// stays free for share links (#r=...). Works on static hosts with no server rewrites.

export const VIEWS = ['pipeline', 'data', 'train', 'playground', 'evaluate', 'models'] as const;
export type ViewName = (typeof VIEWS)[number];

export const VIEW_TITLES: Record<ViewName, string> = {
  pipeline: 'Pipeline',
  data: 'Data',
  train: 'Train',
  playground: 'Playground',
  evaluate: 'Evaluate',
  models: 'Models / Device',
};

export function parseView(search: string): ViewName {
  const v = new URLSearchParams(search).get('view');
  return (VIEWS as readonly string[]).includes(v ?? '') ? (v as ViewName) : 'pipeline';
}

/** The URL for `view`, keeping other query parameters and the hash. */
export function viewHref(view: ViewName, loc: { search: string; hash: string; pathname: string }): string {
  const params = new URLSearchParams(loc.search);
  params.set('view', view);
  return `${loc.pathname}?${params.toString()}${loc.hash}`;
}
