"""HTML bodies as mail programs send them, for the converter's tests and bench.html_text."""

from __future__ import annotations

NEWSLETTER = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Example Weekly</title>
<link rel="stylesheet" href="https://cdn.example.com/mail.css">
<style type="text/css">
  @import url("https://fonts.example.com/css?family=Inter");
  body { background: url("https://cdn.example.com/bg.png"); }
  .preheader { display: none !important; visibility: hidden; mso-hide: all; font-size: 1px;
               max-height: 0; overflow: hidden; }
  .mobile-only { display: none; }
  @media only screen and (max-width: 600px) {
    .desktop-only { display: none !important; }
    .mobile-only { display: block !important; }
  }
</style></head>
<body>
<span class="preheader">Three new articles and 20% off inside</span>
<div style="display:none;max-height:0;overflow:hidden">&zwnj;&nbsp;&zwnj;&nbsp;&zwnj;&nbsp;</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
 <table role="presentation" width="600">
  <tr><td><img src="https://cdn.example.com/logo.png" alt="Example Weekly" width="200"></td></tr>
  <tr><td style="font-size:0;line-height:0">&nbsp;</td></tr>
  <tr><td><h1>This week</h1><p>Hello Ann, here is what happened.</p></td></tr>
  <tr><td style="font-size:0">
    <div style="display:inline-block;font-size:14px"><h2>Tea harvest</h2>
      <p>The first flush is in.</p><a href="https://example.com/tea">Read more</a></div>
    <div style="display:inline-block;font-size:14px"><h2>New mugs</h2>
      <p>Two colours, one size.</p><a href="https://example.com/mugs">Read more</a></div>
  </td></tr>
  <tr><td class="desktop-only">Best read on a big screen.</td></tr>
  <tr><td class="mobile-only">Tap to read on your phone.</td></tr>
  <tr><td><iframe src="https://video.example.com/embed/1">Your client cannot show video.</iframe>
    <div style="background-image:url('https://cdn.example.com/hero.jpg')">Autumn sale: 20% off</div></td></tr>
  <tr><td><p style="font-size:11px">You get this because you signed up.
    <a href="https://example.com/unsubscribe">Unsubscribe</a></p></td></tr>
 </table>
</td></tr></table>
<img src="https://tracker.example.com/open.gif?u=42" width="1" height="1" alt="">
</body></html>
"""

RECEIPT = """<html><body>
<p>Thanks for your order <b>#1042</b>. We will send it tomorrow.</p>
<table border="1" cellpadding="4">
<thead><tr><th>Item</th><th>Qty</th><th>Price</th></tr></thead>
<tbody>
<tr><td>Green tea, loose leaf (250 g)</td><td>2</td><td>€7.00</td></tr>
<tr><td>Mug, blue</td><td>1</td><td>€12.00</td></tr>
<tr><td>茶碗</td><td>1</td><td>€9.50</td></tr>
</tbody>
<tfoot><tr><td colspan="2">Total</td><td>€35.50</td></tr></tfoot>
</table>
<p>Questions? Reply to this mail.</p>
</body></html>
"""

LISTS = """<p>Agenda for Monday:</p>
<ol>
  <li>Budget
    <ul><li>spent so far</li><li>what is left</li></ul>
  </li>
  <li><p>Hiring</p><p>Two open positions.</p></li>
  <li>Anything else
</ol>
<p>Notes:</p>
<ul><li>Bring the numbers<li>Book the room</ul>
"""

SAMPLES = {"newsletter": NEWSLETTER, "receipt": RECEIPT, "lists": LISTS}
