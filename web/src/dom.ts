/** Small DOM helpers: every text goes in through textContent (no HTML from data). */

export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

export type Cell = string | Node | { text: string; numeric?: boolean; className?: string };

export function cell(content: Cell, numeric = false): HTMLTableCellElement {
  const td = document.createElement('td');
  if (typeof content === 'string') {
    td.textContent = content;
    if (numeric) td.className = 'num';
  } else if (content instanceof Node) {
    td.append(content);
  } else {
    td.textContent = content.text;
    td.className = [content.numeric ? 'num' : '', content.className ?? ''].join(' ').trim();
  }
  return td;
}

/** Replaces the body's rows; the columns listed in `numeric` are right-aligned. `empty` fills a single row when there are none. */
export function fillTable(table: HTMLTableElement, rows: Cell[][], numeric: number[], empty: string): void {
  const body = table.tBodies[0]!;
  if (rows.length === 0) {
    const td = document.createElement('td');
    td.colSpan = table.tHead?.rows[0]?.cells.length ?? 1;
    td.className = 'muted';
    td.textContent = empty;
    const tr = document.createElement('tr');
    tr.append(td);
    body.replaceChildren(tr);
    return;
  }
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      tr.append(...row.map((content, i) => cell(content, numeric.includes(i))));
      return tr;
    }),
  );
}

export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
