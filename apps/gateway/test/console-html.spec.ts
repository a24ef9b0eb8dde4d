import { describe, expect, it } from '@jest/globals';
import { html, raw } from '../src/console/html.util.js';

describe('console html - every interpolation escaped', () => {
  it('console html - text and attribute values are escaped; nested fragments and raw ones are kept; lists joined; null, undefined and false render nothing', () => {
    const name = `<script>alert("x")</script>&'`;
    // The exact text is the point: prettier would reformat an `html` template.
    // prettier-ignore
    const page = html`<td title="${name}">${name}</td>${html`<b>${'a<b'}</b>`}${raw('<i>ok</i>')}${[1, html`<br>`, '<']}${null}${undefined}${false}${0}`;
    expect(page.value).toBe(
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</td><b>a&lt;b</b><i>ok</i>1<br>&lt;0',
    );
  });
});
