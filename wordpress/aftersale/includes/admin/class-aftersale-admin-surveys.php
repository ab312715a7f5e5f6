<?php
/**
 * Aftersale > Surveys: the surveys (GET /v1/surveys), a new one from a
 * template (GET /v1/survey-templates, POST /v1/surveys), editing one
 * (PATCH /v1/surveys/{id}: name, status, sampling, the questions' English
 * labels; its versions listed, each one's questions readable with
 * ?version=n), its report (GET /v1/surveys/{id}/report: NPS over time as a
 * line inside its 95% margin band, the score distribution as bars, CSAT,
 * response rate, breakdowns by country, first/repeat customer and
 * product), its responses with filters and their follow-up status
 * (PATCH /v1/survey-responses/{id}) and the CSV export.
 *
 * The CSV is streamed: admin-post.php?action=aftersale_survey_csv (nonce
 * per survey, capability) has WordPress write the service's
 * responses.csv to a temporary file as it arrives, then sends it on in
 * chunks, so neither side holds it whole in memory; the browser never sees
 * the service or its key.
 *
 * @package Aftersale
 */

defined('ABSPATH') || exit;

require_once __DIR__ . '/class-aftersale-admin-base.php';

/**
 * The surveys screen.
 */
class Aftersale_Admin_Surveys extends Aftersale_Admin_Base
{
    public const SLUG = 'aftersale-surveys';
    public const ACTION = 'aftersale_surveys';
    public const CSV_ACTION = 'aftersale_survey_csv';
    public const FOLLOW_UPS = array('new', 'contacted', 'resolved');

    public function slug(): string
    {
        return self::SLUG;
    }

    public function register(): void
    {
        add_action('admin_post_' . self::ACTION, array($this, 'handle'));
        add_action('admin_post_' . self::CSV_ACTION, array($this, 'csv'));
    }

    /**
     * A status as the merchant reads it.
     *
     * @param string $s The survey's status.
     */
    public static function status_label(string $s): string
    {
        $labels = array(
            'draft'    => __('Draft', 'aftersale'),
            'active'   => __('Active', 'aftersale'),
            'paused'   => __('Paused', 'aftersale'),
            'archived' => __('Archived', 'aftersale'),
        );
        return $labels[$s] ?? $s;
    }

    /**
     * A follow-up state as the merchant reads it.
     *
     * @param string $s new, contacted or resolved.
     */
    public static function follow_up_label(string $s): string
    {
        $labels = array(
            'new'       => __('Not contacted', 'aftersale'),
            'contacted' => __('Contacted', 'aftersale'),
            'resolved'  => __('Resolved', 'aftersale'),
        );
        return $labels[$s] ?? $s;
    }

    /**
     * A label of the service (text per locale) in the site's language.
     *
     * @param mixed $label The label object.
     */
    public static function text($label): string
    {
        if (! is_array($label)) {
            return (string) $label;
        }
        $locale = (string) get_locale();
        foreach (array($locale, substr($locale, 0, 2), 'en') as $l) {
            if (isset($label[$l]) && $label[$l] !== '') {
                return (string) $label[$l];
            }
        }
        return (string) reset($label);
    }

    public function render(): void
    {
        self::require_cap();
        // phpcs:disable WordPress.Security.NonceVerification.Recommended -- navigation, read only.
        $view = isset($_GET['view']) ? sanitize_key((string) wp_unslash($_GET['view'])) : 'list';
        $id   = isset($_GET['survey']) ? absint(wp_unslash($_GET['survey'])) : 0;
        // phpcs:enable
        self::open(__('Surveys', 'aftersale'));
        if ($id > 0 && in_array($view, array('edit', 'report', 'responses'), true)) {
            printf('<p><a href="%1$s">&larr; %2$s</a></p>', esc_url($this->url()), esc_html__('All surveys', 'aftersale'));
            $survey = $this->client()->get('/v1/surveys/' . $id);
            if (is_wp_error($survey)) {
                self::service_error($survey);
                self::close();
                return;
            }
            printf('<h2>%s</h2>', esc_html((string) $survey['name']));
            self::tabs(
                array(
                    'report'    => array(__('Report', 'aftersale'), $this->url(array('view' => 'report', 'survey' => (string) $id))),
                    'responses' => array(__('Responses', 'aftersale'), $this->url(array('view' => 'responses', 'survey' => (string) $id))),
                    'edit'      => array(__('Edit', 'aftersale'), $this->url(array('view' => 'edit', 'survey' => (string) $id))),
                ),
                $view
            );
            $method = 'render_' . $view;
            $this->$method($survey);
        } elseif ($view === 'new') {
            $this->render_new();
        } else {
            $this->render_list();
        }
        self::close();
    }

    private function render_list(): void
    {
        printf('<p><a class="page-title-action" href="%1$s">%2$s</a></p>', esc_url($this->url(array('view' => 'new'))), esc_html__('Add a survey from a template', 'aftersale'));
        $page = $this->client()->get('/v1/surveys?limit=100');
        if (is_wp_error($page)) {
            self::service_error($page);
            return;
        }
        $items = (array) ($page['items'] ?? array());
        if ($items === array()) {
            printf('<p>%s</p>', esc_html__('No survey yet.', 'aftersale'));
            return;
        }
        printf('<table class="wp-list-table widefat fixed striped"><thead><tr>');
        foreach (array(__('Survey', 'aftersale'), __('Status', 'aftersale'), __('Version', 'aftersale'), __('Sampling', 'aftersale'), __('Updated', 'aftersale'), __('Actions', 'aftersale')) as $h) {
            printf('<th scope="col">%s</th>', esc_html($h));
        }
        printf('</tr></thead><tbody>');
        foreach ($items as $s) {
            $sid = (string) (int) $s['id'];
            printf('<tr>');
            printf('<td><a href="%1$s"><strong>%2$s</strong></a></td>', esc_url($this->url(array('view' => 'report', 'survey' => $sid))), esc_html((string) $s['name']));
            printf('<td>%s</td>', esc_html(self::status_label((string) $s['status'])));
            printf('<td>%d</td>', (int) $s['current_version']);
            printf('<td>%s %%</td>', esc_html(self::num(100 * (float) $s['sampling_rate'])));
            printf('<td>%s</td>', esc_html(self::date($s['updated_at'] ?? '')));
            printf(
                '<td><a href="%1$s">%2$s</a> · <a href="%3$s">%4$s</a> · <a href="%5$s">%6$s</a></td>',
                esc_url($this->url(array('view' => 'report', 'survey' => $sid))),
                esc_html__('Report', 'aftersale'),
                esc_url($this->url(array('view' => 'responses', 'survey' => $sid))),
                esc_html__('Responses', 'aftersale'),
                esc_url($this->url(array('view' => 'edit', 'survey' => $sid))),
                esc_html__('Edit', 'aftersale')
            );
            printf('</tr>');
        }
        printf('</tbody></table>');
    }

    /**
     * The start of a form posting an action of this screen.
     *
     * @param string $do     The action.
     * @param string $nonce  The nonce's action.
     */
    private static function form_open(string $do, string $nonce): void
    {
        printf('<form method="post" action="%s">', esc_url(admin_url('admin-post.php')));
        printf('<input type="hidden" name="action" value="%s">', esc_attr(self::ACTION));
        printf('<input type="hidden" name="do" value="%s">', esc_attr($do));
        self::print_nonce($nonce);
    }

    private function render_new(): void
    {
        printf('<h2>%s</h2>', esc_html__('New survey from a template', 'aftersale'));
        $templates = $this->client()->get('/v1/survey-templates');
        if (is_wp_error($templates)) {
            self::service_error($templates);
            return;
        }
        self::form_open('create', self::ACTION . '_create');
        printf('<fieldset><legend>%s</legend>', esc_html__('Template', 'aftersale'));
        foreach ((array) ($templates['items'] ?? array()) as $i => $t) {
            $questions = array();
            foreach ((array) ($t['questions'] ?? array()) as $q) {
                $questions[] = self::text($q['label'] ?? '');
            }
            printf(
                '<p><label><input type="radio" name="template" value="%1$s"%2$s> <strong>%3$s</strong></label><br><span class="description">%4$s</span></p>',
                esc_attr((string) $t['name']),
                $i === 0 ? ' checked' : '',
                esc_html((string) ($t['title'] ?? $t['name'])),
                esc_html(implode(' · ', $questions))
            );
        }
        printf('</fieldset>');
        printf('<p><label for="aftersale-survey-name">%s</label><br><input type="text" class="regular-text" id="aftersale-survey-name" name="name" maxlength="200"></p>', esc_html__('Name (the template\'s title when empty)', 'aftersale'));
        printf(
            '<p><label for="aftersale-survey-status">%1$s</label><br><select id="aftersale-survey-status" name="status"><option value="draft">%2$s</option><option value="active">%3$s</option></select></p>',
            esc_html__('Status', 'aftersale'),
            esc_html__('Draft', 'aftersale'),
            esc_html__('Active', 'aftersale')
        );
        printf('<p><button type="submit" class="button button-primary">%s</button></p></form>', esc_html__('Create the survey', 'aftersale'));
    }

    /**
     * The edit form and the versions.
     *
     * @param array $survey The survey.
     */
    private function render_edit(array $survey): void
    {
        $id = (int) $survey['id'];
        self::form_open('update', self::ACTION . '_' . $id);
        printf('<input type="hidden" name="survey" value="%d">', $id);
        printf('<p><label for="aftersale-survey-name">%1$s</label><br><input type="text" class="regular-text" id="aftersale-survey-name" name="name" maxlength="200" value="%2$s"></p>', esc_html__('Name', 'aftersale'), esc_attr((string) $survey['name']));
        if ($survey['status'] !== 'archived') {
            printf('<p><label for="aftersale-survey-status">%s</label><br><select id="aftersale-survey-status" name="status">', esc_html__('Status', 'aftersale'));
            foreach (array('draft', 'active', 'paused') as $s) {
                printf('<option value="%1$s"%2$s>%3$s</option>', esc_attr($s), $s === $survey['status'] ? ' selected' : '', esc_html(self::status_label($s)));
            }
            printf('</select></p>');
        }
        printf(
            '<p><label for="aftersale-survey-sampling">%1$s</label><br><input type="number" id="aftersale-survey-sampling" name="sampling" min="0" max="100" step="1" value="%2$s"> %%</p>',
            esc_html__('Share of matching orders invited', 'aftersale'),
            esc_attr((string) round(100 * (float) $survey['sampling_rate']))
        );
        printf('<fieldset><legend>%s</legend>', esc_html__('Questions (English text; a question already answered makes a new version)', 'aftersale'));
        foreach ((array) $survey['questions'] as $q) {
            $qid = (string) $q['id'];
            printf(
                '<p><label for="aftersale-q-%1$s">%2$s</label><br><input type="text" class="large-text" id="aftersale-q-%1$s" name="labels[%1$s]" value="%3$s"></p>',
                esc_attr($qid),
                /* translators: 1: question id, 2: its kind (nps, csat, ...) */
                esc_html(sprintf(__('%1$s (%2$s)', 'aftersale'), $qid, (string) $q['kind'])),
                esc_attr((string) ($q['label']['en'] ?? self::text($q['label'] ?? '')))
            );
        }
        printf('</fieldset>');
        printf('<p><button type="submit" class="button button-primary">%s</button></p></form>', esc_html__('Save', 'aftersale'));

        // The versions, each one's questions a click away.
        // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- which version to show, read only.
        $shown   = isset($_GET['version']) ? absint(wp_unslash($_GET['version'])) : 0;
        $current = (int) $survey['current_version'];
        printf('<h3>%s</h3><ul class="aftersale-versions">', esc_html__('Versions', 'aftersale'));
        for ($v = $current; $v >= 1; $v--) {
            printf(
                '<li><a href="%1$s">%2$s</a>%3$s</li>',
                esc_url($this->url(array('view' => 'edit', 'survey' => (string) $id, 'version' => (string) $v))),
                /* translators: %d: version number */
                esc_html(sprintf(__('Version %d', 'aftersale'), $v)),
                $v === $current ? ' ' . esc_html__('(current)', 'aftersale') : ''
            );
        }
        printf('</ul>');
        if ($shown >= 1 && $shown <= $current) {
            $old = $this->client()->get('/v1/surveys/' . $id . '?version=' . $shown);
            if (is_wp_error($old)) {
                self::service_error($old);
                return;
            }
            /* translators: %d: version number */
            printf('<h4>%s</h4><ol>', esc_html(sprintf(__('Questions of version %d', 'aftersale'), $shown)));
            foreach ((array) $old['questions'] as $q) {
                printf('<li>%1$s <code>%2$s</code></li>', esc_html(self::text($q['label'] ?? '')), esc_html((string) $q['kind']));
            }
            printf('</ol>');
        }
    }

    /**
     * The report.
     *
     * @param array $survey The survey.
     */
    private function render_report(array $survey): void
    {
        $id = (int) $survey['id'];
        // phpcs:disable WordPress.Security.NonceVerification.Recommended -- the range, read only.
        $from     = isset($_GET['from']) ? sanitize_text_field((string) wp_unslash($_GET['from'])) : '';
        $to       = isset($_GET['to']) ? sanitize_text_field((string) wp_unslash($_GET['to'])) : '';
        $interval = isset($_GET['interval']) ? sanitize_key((string) wp_unslash($_GET['interval'])) : 'week';
        // phpcs:enable
        $from     = preg_match('/^\d{4}-\d{2}-\d{2}$/', $from) ? $from : gmdate('Y-m-d', time() - 90 * DAY_IN_SECONDS);
        $to       = preg_match('/^\d{4}-\d{2}-\d{2}$/', $to) ? $to : gmdate('Y-m-d', time() + DAY_IN_SECONDS);
        $interval = in_array($interval, array('day', 'week', 'month'), true) ? $interval : 'week';
        printf('<form method="get" action="%s">', esc_url(admin_url('admin.php')));
        printf('<input type="hidden" name="page" value="%1$s"><input type="hidden" name="view" value="report"><input type="hidden" name="survey" value="%2$d">', esc_attr(self::SLUG), $id);
        printf('<label for="aftersale-from">%1$s</label> <input type="date" id="aftersale-from" name="from" value="%2$s"> ', esc_html__('From', 'aftersale'), esc_attr($from));
        printf('<label for="aftersale-to">%1$s</label> <input type="date" id="aftersale-to" name="to" value="%2$s"> ', esc_html__('To', 'aftersale'), esc_attr($to));
        printf('<label for="aftersale-interval">%s</label> <select id="aftersale-interval" name="interval">', esc_html__('Per', 'aftersale'));
        foreach (array('day' => __('Day', 'aftersale'), 'week' => __('Week', 'aftersale'), 'month' => __('Month', 'aftersale')) as $k => $label) {
            printf('<option value="%1$s"%2$s>%3$s</option>', esc_attr($k), $k === $interval ? ' selected' : '', esc_html($label));
        }
        printf('</select> <button type="submit" class="button">%s</button></form>', esc_html__('Show', 'aftersale'));

        $report = $this->client()->get('/v1/surveys/' . $id . '/report?from=' . $from . '&to=' . $to . '&interval=' . $interval);
        if (is_wp_error($report)) {
            self::service_error($report);
            return;
        }
        $t = (array) ($report['totals'] ?? array());
        printf('<ul class="aftersale-figures">');
        $nps  = is_array($t['nps'] ?? null) ? $t['nps'] : null;
        $csat = is_array($t['csat'] ?? null) ? $t['csat'] : null;
        $ces  = is_array($t['ces'] ?? null) ? $t['ces'] : null;
        $rate = $t['response_rate'] ?? null;
        foreach (
            array(
                array(__('Invitations sent', 'aftersale'), self::num((float) ($t['invitations_sent'] ?? 0))),
                array(__('Responses', 'aftersale'), self::num((float) ($t['responses'] ?? 0))),
                array(__('Response rate', 'aftersale'), $rate === null ? '–' : self::num(100 * (float) $rate) . ' %'),
                array(__('NPS', 'aftersale'), $nps === null ? '–' : self::num((float) $nps['score']) . ' ± ' . self::num((float) $nps['margin_of_error'])),
                array(__('CSAT', 'aftersale'), $csat === null ? '–' : self::num((float) $csat['score']) . ' %'),
                array(__('CES (mean)', 'aftersale'), $ces === null || $ces['mean'] === null ? '–' : self::num((float) $ces['mean'])),
            ) as $f
        ) {
            printf('<li><span>%1$s</span> <strong>%2$s</strong></li>', esc_html($f[0]), esc_html($f[1]));
        }
        printf('</ul>');

        // NPS over time inside its 95% margin.
        $points = array();
        foreach ((array) ($report['over_time'] ?? array()) as $m) {
            $p = is_array($m['nps'] ?? null) ? $m['nps'] : null;
            if ($p === null) {
                $points[] = array((string) ($m['period'] ?? ''), null, null, null);
                continue;
            }
            $score    = (float) $p['score'];
            $moe      = (float) $p['margin_of_error'];
            $points[] = array((string) ($m['period'] ?? ''), $score, max(-100, $score - $moe), min(100, $score + $moe));
        }
        if ($nps !== null) {
            self::chart_line(__('NPS over time, with its 95% margin of error', 'aftersale'), __('Period', 'aftersale'), __('NPS', 'aftersale'), $points);
        }
        // The score distribution of the first scored question.
        foreach ((array) ($t['questions'] ?? array()) as $q) {
            if (! in_array($q['kind'] ?? '', array('nps', 'csat', 'ces', 'rating'), true) || empty($q['distribution'])) {
                continue;
            }
            $bars = array();
            $dist = (array) $q['distribution'];
            ksort($dist, SORT_NUMERIC);
            foreach ($dist as $score => $n) {
                $bars[] = array((string) $score, (int) $n);
            }
            /* translators: %s: question id */
            self::chart_bars(sprintf(__('Scores of %s', 'aftersale'), (string) $q['id']), __('Score', 'aftersale'), __('Responses', 'aftersale'), $bars);
            break;
        }
        $this->breakdown(__('By country', 'aftersale'), (array) ($report['by_country'] ?? array()), 'country');
        $this->breakdown(__('First or repeat customers', 'aftersale'), (array) ($report['by_customer'] ?? array()), 'customer');
        $this->breakdown(__('By product', 'aftersale'), (array) ($report['by_product'] ?? array()), 'product_name');
    }

    /**
     * A breakdown as a table.
     *
     * @param string $title Heading.
     * @param array  $rows  Metrics rows.
     * @param string $key   The field naming each row.
     */
    private function breakdown(string $title, array $rows, string $key): void
    {
        if ($rows === array()) {
            return;
        }
        printf('<h3>%s</h3><table class="widefat striped aftersale-breakdown"><thead><tr>', esc_html($title));
        foreach (array('', __('Invitations sent', 'aftersale'), __('Responses', 'aftersale'), __('Response rate', 'aftersale'), __('NPS', 'aftersale'), __('CSAT', 'aftersale')) as $h) {
            printf('<th scope="col">%s</th>', esc_html($h));
        }
        printf('</tr></thead><tbody>');
        foreach ($rows as $m) {
            $name = (string) ($m[$key] ?? '');
            if ($key === 'customer') {
                $name = $name === 'first' ? __('First order', 'aftersale') : __('Repeat customer', 'aftersale');
            } elseif ($key === 'product_name' && $name === '') {
                $name = self::product_name((int) ($m['product_id'] ?? 0));
            }
            $rate = $m['response_rate'] ?? null;
            printf(
                '<tr><th scope="row">%1$s</th><td>%2$s</td><td>%3$s</td><td>%4$s</td><td>%5$s</td><td>%6$s</td></tr>',
                esc_html($name !== '' ? $name : '–'),
                esc_html(self::num((float) ($m['invitations_sent'] ?? 0))),
                esc_html(self::num((float) ($m['responses'] ?? 0))),
                esc_html($rate === null ? '–' : self::num(100 * (float) $rate) . ' %'),
                esc_html(is_array($m['nps'] ?? null) ? self::num((float) $m['nps']['score']) : '–'),
                esc_html(is_array($m['csat'] ?? null) ? self::num((float) $m['csat']['score']) . ' %' : '–')
            );
        }
        printf('</tbody></table>');
    }

    /**
     * The responses' filters from the URL, sanitised.
     *
     * @return array
     */
    private static function response_filters(): array
    {
        $f = array();
        // phpcs:disable WordPress.Security.NonceVerification.Recommended -- filters, read only.
        foreach (array('score_min', 'score_max') as $k) {
            $v = isset($_GET[$k]) ? wp_unslash($_GET[$k]) : '';
            if (is_string($v) && $v !== '') {
                $f[$k] = (string) min(10, absint($v));
            }
        }
        $follow = isset($_GET['follow_up']) ? sanitize_key((string) wp_unslash($_GET['follow_up'])) : '';
        if (in_array($follow, self::FOLLOW_UPS, true)) {
            $f['follow_up'] = $follow;
        }
        $q = isset($_GET['q']) ? sanitize_text_field((string) wp_unslash($_GET['q'])) : '';
        if ($q !== '') {
            $f['q'] = mb_substr($q, 0, 200);
        }
        // phpcs:enable
        return $f;
    }

    /**
     * The responses with filters, follow-up and the CSV link.
     *
     * @param array $survey The survey.
     */
    private function render_responses(array $survey): void
    {
        $id = (int) $survey['id'];
        $f  = self::response_filters();
        printf(
            '<p><a class="button" href="%1$s">%2$s</a></p>',
            esc_url(add_query_arg(array('action' => self::CSV_ACTION, 'survey' => (string) $id, '_wpnonce' => wp_create_nonce(self::CSV_ACTION . '_' . $id)), admin_url('admin-post.php'))),
            esc_html__('Export all responses (CSV)', 'aftersale')
        );
        printf('<form method="get" action="%s" class="aftersale-filters">', esc_url(admin_url('admin.php')));
        printf('<input type="hidden" name="page" value="%1$s"><input type="hidden" name="view" value="responses"><input type="hidden" name="survey" value="%2$d">', esc_attr(self::SLUG), $id);
        printf('<label for="aftersale-smin">%1$s</label> <input type="number" min="0" max="10" id="aftersale-smin" name="score_min" value="%2$s"> ', esc_html__('Lowest score', 'aftersale'), esc_attr($f['score_min'] ?? ''));
        printf('<label for="aftersale-smax">%1$s</label> <input type="number" min="0" max="10" id="aftersale-smax" name="score_max" value="%2$s"> ', esc_html__('Highest score', 'aftersale'), esc_attr($f['score_max'] ?? ''));
        printf('<label for="aftersale-follow">%1$s</label> <select id="aftersale-follow" name="follow_up"><option value="">%2$s</option>', esc_html__('Follow-up', 'aftersale'), esc_html__('Any', 'aftersale'));
        foreach (self::FOLLOW_UPS as $s) {
            printf('<option value="%1$s"%2$s>%3$s</option>', esc_attr($s), ($f['follow_up'] ?? '') === $s ? ' selected' : '', esc_html(self::follow_up_label($s)));
        }
        printf('</select> ');
        printf('<label for="aftersale-q">%1$s</label> <input type="search" id="aftersale-q" name="q" value="%2$s"> ', esc_html__('Text', 'aftersale'), esc_attr($f['q'] ?? ''));
        printf('<button type="submit" class="button">%s</button></form>', esc_html__('Filter', 'aftersale'));

        // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- paging, read only.
        $cursor = isset($_GET['cursor']) ? preg_replace('/[^A-Za-z0-9_=-]/', '', (string) wp_unslash($_GET['cursor'])) : '';
        $query  = array_merge(array('limit' => '50'), $f, $cursor !== '' ? array('cursor' => $cursor) : array());
        $page   = $this->client()->get('/v1/surveys/' . $id . '/responses?' . http_build_query($query, '', '&', PHP_QUERY_RFC3986));
        if (is_wp_error($page)) {
            self::service_error($page);
            return;
        }
        $items = (array) ($page['items'] ?? array());
        if ($items === array()) {
            printf('<p>%s</p>', esc_html__('No response matches.', 'aftersale'));
            return;
        }
        printf('<table class="wp-list-table widefat fixed striped"><thead><tr>');
        foreach (array(__('Given', 'aftersale'), __('Customer', 'aftersale'), __('Score', 'aftersale'), __('Answers', 'aftersale'), __('Follow-up', 'aftersale')) as $h) {
            printf('<th scope="col">%s</th>', esc_html($h));
        }
        printf('</tr></thead><tbody>');
        foreach ($items as $r) {
            $rid     = (int) $r['id'];
            $answers = array();
            foreach ((array) ($r['answers'] ?? array()) as $qid => $a) {
                $answers[] = $qid . ': ' . (is_array($a) ? implode(', ', array_map('strval', $a)) : (string) $a);
            }
            foreach ((array) ($r['other'] ?? array()) as $qid => $a) {
                $answers[] = $qid . ' (' . __('other', 'aftersale') . '): ' . (string) $a;
            }
            printf('<tr id="aftersale-response-%d">', $rid); // the order box links here
            printf('<td>%s</td>', esc_html(self::date($r['created_at'] ?? '')));
            /* translators: %d: order number */
            printf('<td>%1$s<br><small>%2$s</small></td>', esc_html((string) ($r['email'] ?? '')), esc_html(sprintf(__('Order #%d', 'aftersale'), (int) $r['order_id'])));
            printf('<td>%s</td>', esc_html($r['score'] === null ? '–' : (string) (int) $r['score']));
            printf('<td>%s</td>', esc_html(implode(' · ', $answers)));
            printf('<td>');
            self::form_open('follow_up', self::ACTION . '_response_' . $rid);
            printf('<input type="hidden" name="response" value="%1$d"><input type="hidden" name="survey" value="%2$d">', $rid, $id);
            printf('<label class="screen-reader-text" for="aftersale-fu-%1$d">%2$s</label><select id="aftersale-fu-%1$d" name="follow_up">', $rid, esc_html__('Follow-up', 'aftersale'));
            foreach (self::FOLLOW_UPS as $s) {
                printf('<option value="%1$s"%2$s>%3$s</option>', esc_attr($s), ($r['follow_up'] ?? '') === $s ? ' selected' : '', esc_html(self::follow_up_label($s)));
            }
            printf('</select>');
            printf('<label class="screen-reader-text" for="aftersale-note-%1$d">%2$s</label><input type="text" id="aftersale-note-%1$d" name="note" value="%3$s" placeholder="%2$s">', $rid, esc_attr__('Note', 'aftersale'), esc_attr((string) ($r['note'] ?? '')));
            printf(' <button type="submit" class="button">%s</button></form>', esc_html__('Save', 'aftersale'));
            printf('</td></tr>');
        }
        printf('</tbody></table>');
        if (! empty($page['next_cursor'])) {
            printf('<p><a class="button" href="%1$s">%2$s</a></p>', esc_url($this->url(array_merge($f, array('view' => 'responses', 'survey' => (string) $id, 'cursor' => rawurlencode((string) $page['next_cursor']))))), esc_html__('Next page', 'aftersale'));
        }
    }

    /**
     * admin-post: create, update, follow-up.
     */
    public function handle(): void
    {
        self::require_cap();
        $do = self::posted('do');
        if ($do === 'create') {
            check_admin_referer(self::ACTION . '_create');
            $this->create();
        } elseif ($do === 'update') {
            $id = isset($_POST['survey']) ? absint(wp_unslash($_POST['survey'])) : 0;
            check_admin_referer(self::ACTION . '_' . $id);
            $this->update($id);
        } elseif ($do === 'follow_up') {
            $rid = isset($_POST['response']) ? absint(wp_unslash($_POST['response'])) : 0;
            check_admin_referer(self::ACTION . '_response_' . $rid);
            $this->follow_up($rid);
        }
        wp_die(esc_html__('Unknown action.', 'aftersale'), '', array('response' => 400));
    }

    private function create(): void
    {
        // phpcs:disable WordPress.Security.NonceVerification.Missing -- verified by handle().
        $body = array('template' => sanitize_key(self::posted('template')));
        $name = self::posted('name');
        if ($name !== '') {
            $body['name'] = mb_substr($name, 0, 200);
        }
        $status = self::posted('status');
        // phpcs:enable
        $body['status'] = in_array($status, array('draft', 'active'), true) ? $status : 'draft';
        $made           = $this->client()->post('/v1/surveys', $body);
        if (is_wp_error($made)) {
            $this->back($this->url(array('view' => 'new')), $made->get_error_message(), true);
        }
        $this->back($this->url(array('view' => 'report', 'survey' => (string) (int) $made['id'])), __('The survey was created.', 'aftersale'));
    }

    /**
     * PATCH the survey with what the form changed.
     *
     * @param int $id The survey.
     */
    private function update(int $id): void
    {
        $survey = $this->client()->get('/v1/surveys/' . $id);
        $back   = $this->url(array('view' => 'edit', 'survey' => (string) $id));
        if (is_wp_error($survey)) {
            $this->back($back, $survey->get_error_message(), true);
        }
        // phpcs:disable WordPress.Security.NonceVerification.Missing -- verified by handle().
        $patch = array();
        $name  = self::posted('name');
        if ($name !== '' && $name !== $survey['name']) {
            $patch['name'] = mb_substr($name, 0, 200);
        }
        $status = self::posted('status');
        if (in_array($status, array('draft', 'active', 'paused'), true) && $status !== $survey['status']) {
            $patch['status'] = $status;
        }
        $sampling = isset($_POST['sampling']) ? wp_unslash($_POST['sampling']) : '';
        if (is_numeric($sampling)) {
            $rate = max(0, min(100, (int) $sampling)) / 100;
            if (abs($rate - (float) $survey['sampling_rate']) > 0.0001) {
                $patch['sampling_rate'] = $rate;
            }
        }
        $labels  = isset($_POST['labels']) ? wp_unslash($_POST['labels']) : array();
        $labels  = is_array($labels) ? $labels : array();
        // phpcs:enable
        $changed = false;
        $qs      = (array) $survey['questions'];
        foreach ($qs as $i => $q) {
            $new = isset($labels[$q['id']]) ? mb_substr(sanitize_text_field((string) $labels[$q['id']]), 0, 500) : '';
            if ($new !== '' && $new !== (string) ($q['label']['en'] ?? '')) {
                $qs[$i]['label']['en'] = $new;
                $changed               = true;
            }
        }
        if ($changed) {
            $patch['questions'] = $qs;
        }
        if ($patch === array()) {
            $this->back($back, __('Nothing was changed.', 'aftersale'));
        }
        list($msg, $error) = self::outcome($this->client()->request('PATCH', '/v1/surveys/' . $id, $patch), __('The survey was saved.', 'aftersale'));
        $this->back($back, $msg, $error);
    }

    /**
     * PATCH a response's follow-up.
     *
     * @param int $rid The response.
     */
    private function follow_up(int $rid): void
    {
        // phpcs:disable WordPress.Security.NonceVerification.Missing -- verified by handle().
        $state  = self::posted('follow_up');
        $note   = isset($_POST['note']) ? sanitize_textarea_field((string) wp_unslash($_POST['note'])) : '';
        $survey = isset($_POST['survey']) ? absint(wp_unslash($_POST['survey'])) : 0;
        // phpcs:enable
        $body = array('note' => $note !== '' ? mb_substr($note, 0, 2000) : null);
        if (in_array($state, self::FOLLOW_UPS, true)) {
            $body['follow_up'] = $state;
        }
        $answer            = $this->client()->request('PATCH', '/v1/survey-responses/' . $rid, $body);
        list($msg, $error) = self::outcome($answer, __('The follow-up was saved.', 'aftersale'));
        $this->back($this->url(array('view' => 'responses', 'survey' => (string) $survey)), $msg, $error);
    }

    /**
     * admin-post: the survey's responses.csv, streamed through the plugin.
     */
    public function csv(): void
    {
        self::require_cap();
        // phpcs:disable WordPress.Security.NonceVerification.Recommended -- verified just below.
        $id    = isset($_GET['survey']) ? absint(wp_unslash($_GET['survey'])) : 0;
        $nonce = isset($_GET['_wpnonce']) ? sanitize_text_field((string) wp_unslash($_GET['_wpnonce'])) : '';
        // phpcs:enable
        if ($id <= 0 || ! wp_verify_nonce($nonce, self::CSV_ACTION . '_' . $id)) {
            wp_die(esc_html__('The link you followed has expired.', 'aftersale'), '', array('response' => 403));
        }
        $this->relay(
            '/v1/surveys/' . $id . '/responses.csv',
            array('text/csv'),
            array(
                'Content-Disposition: attachment; filename="survey-' . $id . '-responses.csv"',
                'Cache-Control: private, no-store',
                'X-Content-Type-Options: nosniff',
            )
        );
    }
}
